/**
 * Checkpoint names of the BERT family as transformers accepts them, mapped onto the names of a
 * sequence-classification model: legacy LayerNorm names (`gamma`/`beta`), checkpoints of the bare
 * encoder saved without the model prefix, and constant buffers that are not weights.
 *
 * @module
 */

const CONSTANT_BUFFER = /(^|\.)embeddings\.(position_ids|token_type_ids)$/;

/**
 * Rename checkpoint keys to the model's names.
 *
 * @param keys The checkpoint's tensor names.
 * @param modelKeys The names the model has.
 * @param basePrefix The encoder's prefix in the model (`distilbert`, `bert`, `roberta`).
 * @returns checkpoint name → model name, for every key that is a weight (constant buffers left out).
 */
export function mapCheckpointKeys(
  keys: Iterable<string>,
  modelKeys: ReadonlySet<string>,
  basePrefix: string,
): Map<string, string> {
  const all = [...keys];
  const hasPrefix = all.some((k) => k.startsWith(basePrefix + "."));
  const out = new Map<string, string>();
  for (const key of all) {
    if (CONSTANT_BUFFER.test(key)) continue;
    let name = key.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
    // A checkpoint of the bare encoder (BertModel.save_pretrained) names its weights without
    // the prefix the task model adds.
    if (!hasPrefix && modelKeys.has(`${basePrefix}.${name}`)) name = `${basePrefix}.${name}`;
    out.set(key, name);
  }
  return out;
}
