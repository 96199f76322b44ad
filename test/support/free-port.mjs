// Plain JavaScript so that the TypeScript tests, the server harnesses and the benchmarks (plain node) share it.
import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 that was free a moment ago, found by letting the kernel pick one. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
