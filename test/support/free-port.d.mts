/** A TCP port on 127.0.0.1 that was free a moment ago, found by letting the kernel pick one. */
export function freePort(): Promise<number>;
