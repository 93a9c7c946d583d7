import type { Server } from 'node:http';

/** Starts `server` (http or https) on a free loopback port and says which. */
export async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Stops `server`, ending its open keep-alive connections rather than waiting for them. */
export async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
