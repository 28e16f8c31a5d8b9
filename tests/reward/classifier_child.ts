/**
 * Runs classifierReward requests in a process of its own and prints the results as JSON, so the
 * test process never loads onnxruntime-node's Node-API addon: that addon panics Deno when two
 * isolates of one process (parallel test modules) create sessions.
 *
 * stdin: a JSON array of {@link ClassifierRequest}; stdout: a JSON array of
 * {@link ClassifierResult}, one per request, in order.
 */

import { classifierReward, type ClassifierRewardOptions } from "../../reward/classifier.ts";
import { scoreTexts } from "../../reward/mod.ts";

/** One model load and the batches scored with it. */
export interface ClassifierRequest {
  /** Model folder. */
  model: string;
  /** Options for classifierReward. */
  options: ClassifierRewardOptions;
  /** Each entry is one call of the reward function. */
  calls: string[][];
}

/** What a request produced: the reward's metadata and scores, or the error message. */
export type ClassifierResult =
  | {
    labels: string[];
    labelId: number;
    function: string;
    scores: number[][];
    afterDispose: string;
  }
  | { error: string };

async function run(request: ClassifierRequest): Promise<ClassifierResult> {
  try {
    const reward = await classifierReward(request.model, request.options);
    const scores: number[][] = [];
    for (const texts of request.calls) scores.push(await scoreTexts(reward, texts));
    await reward.dispose();
    const afterDispose = await reward(["x"]).then(() => "no error", (e) => (e as Error).message);
    return {
      labels: [...reward.labels],
      labelId: reward.labelId,
      function: reward.function,
      scores,
      afterDispose,
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

if (import.meta.main) {
  const requests: ClassifierRequest[] = JSON.parse(
    await new Response(Deno.stdin.readable).text(),
  );
  const results: ClassifierResult[] = [];
  for (const request of requests) results.push(await run(request));
  console.log(JSON.stringify(results));
}
