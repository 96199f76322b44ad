import net from "node:net";

export interface TcpCutProxy {
  port: number;
  /** Bytes passed from the server to clients so far, over every connection. */
  readonly bytesFromServer: number;
  /** Cuts every open connection now (both sides reset). */
  cutAll(): void;
  /** Cuts every connection once this many more bytes have come from the server. */
  cutAfterServerBytes(bytes: number): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy to 127.0.0.1:targetPort that can cut its connections, to
 * make a connection drop mid-walk or mid-transfer the way a network failure does.
 */
export async function startTcpCutProxy(targetPort: number): Promise<TcpCutProxy> {
  const pairs = new Set<{ client: net.Socket; server: net.Socket }>();
  let bytesFromServer = 0;
  let cutAt: number | undefined;

  const cutAll = () => {
    for (const pair of pairs) {
      pair.client.resetAndDestroy();
      pair.server.resetAndDestroy();
    }
    pairs.clear();
  };

  const proxy = net.createServer((client) => {
    const server = net.connect(targetPort, "127.0.0.1");
    const pair = { client, server };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("error", end).on("close", end);
    server.on("error", end).on("close", end);
    client.on("data", (chunk: Buffer) => {
      if (!server.write(chunk)) client.pause();
    });
    server.on("drain", () => client.resume());
    server.on("data", (chunk: Buffer) => {
      if (cutAt !== undefined && bytesFromServer + chunk.length >= cutAt) {
        // Pass on what comes before the cut, then drop the connection mid-stream.
        const kept = cutAt - bytesFromServer;
        bytesFromServer = cutAt;
        cutAt = undefined;
        if (kept > 0) client.write(chunk.subarray(0, kept));
        setImmediate(cutAll);
        return;
      }
      bytesFromServer += chunk.length;
      if (!client.write(chunk)) server.pause();
    });
    client.on("drain", () => server.resume());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));

  return {
    port: (proxy.address() as net.AddressInfo).port,
    get bytesFromServer() {
      return bytesFromServer;
    },
    cutAll,
    cutAfterServerBytes(bytes) {
      cutAt = bytesFromServer + bytes;
    },
    close() {
      cutAll();
      return new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
