// A provider that can be stopped and started again on the same ports and
// data, for tests that take it away mid-sync, with a hook on every request.
import { rmSync } from "node:fs";
import pino from "pino";
import type { ProviderOptions } from "../../provider/options";
import { testCertificate, type TlsProvider } from "./daemon";
import { startTestProvider } from "./provider";

export type RestartableProvider = TlsProvider & {
  /** Stops serving (the data stays); start() serves again on the same ports. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Called after each HTTP request is answered, with its method and route
   * pattern (e.g. "POST ^\/sync\/push$") and status. */
  onRequest: ((route: string, status: number) => void) | null;
};

/** A TLS provider whose ports and data survive a halt and a start. */
export async function startRestartableProvider(options: Partial<ProviderOptions> = {}): Promise<RestartableProvider> {
  const tls = await testCertificate();
  // The provider logs every request it answered: that line is the hook.
  const logger = pino(
    { level: "info" },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { event?: string; method?: string; route?: string | null; status?: number };
        if (entry.event === "http") provider.onRequest?.(`${entry.method} ${entry.route}`, entry.status ?? 0);
      },
    },
  );
  const start = (ports: Partial<ProviderOptions>) => startTestProvider({ ...options, tls, logger, ...ports });
  let running = await start({});
  const { dataDir, httpPort, mxPort, submissionPort } = running;
  let up = true;
  const provider: RestartableProvider = {
    ...running,
    ca: tls.cert,
    onRequest: null,
    async halt() {
      if (!up) return;
      up = false;
      await running.close();
    },
    async start() {
      if (up) return;
      running = await start({ dataDir, httpPort, mxPort, submissionPort });
      up = true;
    },
    async stop() {
      if (up) await running.stop();
      else rmSync(dataDir, { recursive: true, force: true });
      up = false;
    },
    close: () => provider.halt(),
  };
  return provider;
}
