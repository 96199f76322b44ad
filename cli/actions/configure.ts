import { describeConfiguration, storeConfiguration, toolVersion } from "../../core/index.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { parseNow } from "../now.js";

export interface ConfigureFlags {
  config: string;
  now?: string;
  json?: boolean;
}

export async function configure(io: CliIo, setExit: (code: number) => void, opts: ConfigureFlags): Promise<void> {
  const out = new CommandOutput(io, Boolean(opts.json));
  try {
    const now = parseNow(opts.now);
    const options = await out.load(opts.config);
    const result = await storeConfiguration(options, { now, storedBy: `app-backup ${toolVersion} configure` });
    out.result({
      app: options.app.name,
      url: result.url,
      created: result.created,
      changed: result.changed,
      configuration: result.document,
    });
    const what = result.created
      ? "stored"
      : result.changed.length > 0
        ? `updated (${result.changed.join(", ")} changed)`
        : "stored again (unchanged)";
    out.print([`Backup configuration of ${options.app.name} ${what}: ${result.url}`, ...describeConfiguration(result.document)].join("\n"));
    setExit(0);
  } catch (error) {
    setExit(out.fail(error));
  }
}
