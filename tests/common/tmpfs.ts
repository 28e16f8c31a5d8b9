/**
 * Test helper: small tmpfs mounts, for a real full disk or a real read-only file system (root
 * ignores permission bits, so chmod cannot make a folder unwritable in these tests). Tests that
 * need one are marked ignored, not passed, where mounting is not allowed.
 */

async function run(cmd: string, args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

/**
 * Mount a tmpfs of `size` (e.g. `4m`, `64k`) on a new temporary folder; null when this machine
 * does not allow it.
 *
 * @param size tmpfs size option.
 * @param readOnly Mount read-only.
 */
export async function mountTmpfs(
  size: string,
  readOnly = false,
): Promise<{ path: string; unmount: () => Promise<void> } | null> {
  const path = await Deno.makeTempDir({ prefix: "tmpfs_" });
  const options = `${readOnly ? "ro," : ""}size=${size}`;
  if (!(await run("mount", ["-t", "tmpfs", "-o", options, "tmpfs", path]))) {
    await Deno.remove(path);
    return null;
  }
  return {
    path,
    unmount: async () => {
      await run("umount", [path]);
      await Deno.remove(path).catch(() => {});
    },
  };
}

/** Whether tmpfs mounts work here (checked once, by mounting and unmounting one). */
export const CAN_MOUNT_TMPFS: boolean = await (async () => {
  const m = await mountTmpfs("64k");
  if (!m) return false;
  await m.unmount();
  return true;
})();
