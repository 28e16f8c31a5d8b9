/**
 * The one lazy import of `@huggingface/transformers`: it loads onnxruntime-node's native addon,
 * so modules that need it (tokenizers, frozen classifiers) import it on first use, and users of
 * checkpoints alone never need --allow-ffi.
 */

/** The transformers.js module. */
export type Transformers = typeof import("@huggingface/transformers");

let transformersModule: Promise<Transformers> | undefined;

/** Imports transformers.js once; `purpose` names the caller in the permission error. */
export function importTransformers(purpose: string): Promise<Transformers> {
  transformersModule ??= import("@huggingface/transformers").catch((error) => {
    transformersModule = undefined;
    throw new Error(
      `${purpose} needs @huggingface/transformers, which loads onnxruntime-node's native ` +
        `addon: run with --allow-ffi --allow-env --allow-sys --allow-read (${
          (error as Error).message
        })`,
      { cause: error },
    );
  });
  return transformersModule;
}
