/**
 * Which section of the report a metric belongs to, grouped as TRL users read them: reward, KL,
 * losses, clip fractions, policy, value head, returns, lengths, preference rewards, evaluation,
 * ReST, optimizer, time. The first rule that matches wins; anything else goes under "Other".
 *
 * @module
 */

/** A report section: its title and which metric names it takes. */
export interface MetricGroup {
  /** Heading. */
  title: string;
  /** Anchor id. */
  id: string;
  /** Matches the metric names it holds. */
  match: RegExp;
}

/** The sections, in report order. */
export const METRIC_GROUPS: readonly MetricGroup[] = [
  {
    title: "Reward",
    id: "reward",
    match:
      /^(env\/|ppo\/(mean|std)_scores$|best_of_n\/|reward_model\/|rest\/(grow|kept|eval)_reward)/,
  },
  { title: "KL", id: "kl", match: /^objective\/kl|(^|\/)kl(_coef)?$|non_score_reward/ },
  { title: "Losses", id: "losses", match: /(^|\/)loss(\/|$)/ },
  { title: "Clip fractions", id: "clipfrac", match: /clipfrac/ },
  { title: "Policy", id: "policy", match: /^ppo\/policy\/|(^|\/)entropy$/ },
  { title: "Value head", id: "value", match: /^ppo\/val\// },
  { title: "Returns", id: "returns", match: /^ppo\/returns\// },
  { title: "Response lengths", id: "lengths", match: /^tokens\// },
  { title: "Preference rewards", id: "preference", match: /^(train|eval)\/rewards\// },
  { title: "Log-probs and logits", id: "logps", match: /^(train|eval)\/(logps|logits)\// },
  { title: "Evaluation", id: "eval", match: /^eval\// },
  { title: "ReST", id: "rest", match: /^rest\// },
  { title: "Optimizer", id: "optimizer", match: /(learning_rate|grad_norm|epoch)$/ },
  { title: "Time", id: "time", match: /^time\// },
];

/** Where names no rule takes go. */
export const OTHER_GROUP: MetricGroup = { title: "Other", id: "other", match: /.*/ };

/** Names that lead their section, in this order (the numbers a TRL user looks at first). */
export const LEADING_METRICS: readonly string[] = [
  "env/reward_mean",
  "env/reward_std",
  "objective/kl",
  "objective/kl_coef",
  "ppo/loss/total",
  "train/loss",
  "eval/loss",
  "train/rewards/accuracies",
  "train/rewards/margins",
];

/**
 * Order metric names for display: {@link LEADING_METRICS} first, the rest as given.
 *
 * @param names Metric names in first-logged order.
 */
export function displayOrder(names: readonly string[]): string[] {
  const rank = (n: string) => {
    const i = LEADING_METRICS.indexOf(n);
    return i < 0 ? LEADING_METRICS.length : i;
  };
  return names.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i)
    .map(({ n }) => n);
}

/**
 * The section of a metric.
 *
 * @param name A metric name, e.g. `ppo/policy/clipfrac`.
 */
export function groupOf(name: string): MetricGroup {
  return METRIC_GROUPS.find((g) => g.match.test(name)) ?? OTHER_GROUP;
}
