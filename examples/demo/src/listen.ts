import { createServer, type RequestListener, type Server } from 'node:http';

/** Serves `handler` on host:port (0: any free port) and says where. */
export async function serve(handler: RequestListener, host: string, port: number): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return {
    server,
    port: (server.address() as { port: number }).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port that was free a moment ago, for a service whose URL must be known before it starts. */
export async function freePort(host: string): Promise<number> {
  const probe = await serve(() => {}, host, 0);
  await probe.close();
  return probe.port;
}
