import http from "node:http";

/**
 * A loopback HTTP proxy that forwards every request unchanged to a local
 * service and counts them by kind, so a benchmark can say how many requests
 * of each kind a command made. `classify(method, url)` names a request's kind
 * (url is a URL object); `take()` returns the counts since the last take, and
 * for each kind the distinct paths requested.
 */
export async function startCountingProxy(targetPort, classify) {
  const agent = new http.Agent({ keepAlive: true });
  let counts = {};
  let paths = {};
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, "http://127.0.0.1");
    const kind = classify(request.method, url);
    counts[kind] = (counts[kind] ?? 0) + 1;
    (paths[kind] ??= new Set()).add(url.pathname);
    const upstream = http.request(
      { host: "127.0.0.1", port: targetPort, method: request.method, path: request.url, headers: request.headers, agent },
      (answer) => {
        response.writeHead(answer.statusCode, answer.statusMessage, answer.rawHeaders);
        answer.pipe(response);
      },
    );
    upstream.on("error", (error) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`counting proxy: ${error.message}`);
    });
    request.pipe(upstream);
  });
  // Requests come back to back on kept-alive connections; Node's default timeouts would cut the slow ones.
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: server.address().port,
    take() {
      const taken = { counts, paths };
      counts = {};
      paths = {};
      return taken;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
