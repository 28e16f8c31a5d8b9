/**
 * Keeps the WebGPU adapter probe quiet on Linux machines without a desktop session.
 *
 * While it sets up its Vulkan instance, Deno's WebGPU asks libwayland-client for a display.
 * Without `XDG_RUNTIME_DIR` (servers, containers, CI, ssh) libwayland cannot find one, and it
 * says so on standard error (`error: XDG_RUNTIME_DIR is invalid or not set in the
 * environment.`) on every probe, before failing. The failure is expected and harmless; the
 * message is noise that reads like an error. libwayland skips that check when
 * `WAYLAND_DISPLAY` is an absolute path, so in exactly that case (no usable `XDG_RUNTIME_DIR`,
 * no `WAYLAND_DISPLAY`, no `WAYLAND_SOCKET`) we point it at a path that cannot exist: the
 * probe fails as before, silently. A desktop session, or any display the user named, is left
 * alone, and nothing else reads `WAYLAND_DISPLAY`.
 *
 * @module
 */

/** An absolute path that can never be a socket (nothing lives under a character device). */
export const NO_WAYLAND_DISPLAY = "/dev/null/no-wayland-display";

/**
 * Set `WAYLAND_DISPLAY` as described in the module notes, when it applies and env access is
 * granted; returns whether it was set.
 */
export function quietWaylandProbe(): boolean {
  try {
    if (Deno.build.os !== "linux") return false;
    if (Deno.permissions.querySync({ name: "env" }).state !== "granted") return false;
    const runtimeDir = Deno.env.get("XDG_RUNTIME_DIR");
    if (runtimeDir !== undefined && runtimeDir.startsWith("/")) return false;
    if (Deno.env.get("WAYLAND_DISPLAY") || Deno.env.get("WAYLAND_SOCKET")) return false;
    Deno.env.set("WAYLAND_DISPLAY", NO_WAYLAND_DISPLAY);
    return true;
  } catch {
    return false;
  }
}
