import type { AppBackupOptions } from "../options.js";
import type { HomeReader } from "./home.js";
import { LocalHomeReader } from "./local-home.js";
import type { RemoteHomeAccess } from "./remote-access.js";
import type { RemoteHomeSpec } from "./remote-home.js";

export interface HomeEvents {
  warning?(message: string): void;
}

export type { RemoteHomeAccess };

/**
 * The home a backup reads. A remote medium's module (and its SSH or HTTP
 * client) is loaded only when the configuration names one, so a local backup
 * pays nothing for them.
 */
export async function openHomeReader(options: AppBackupOptions, events: HomeEvents = {}): Promise<HomeReader> {
  const remote = options.app.remote;
  if (remote) return openRemoteHome(remote, events);
  const local = new LocalHomeReader(options.app.home, options.configPath);
  await local.check();
  return local;
}

/** Connects to a remote home: one connection for reading and for a restore's writes. */
export async function openRemoteHome(spec: RemoteHomeSpec, events: HomeEvents = {}): Promise<RemoteHomeAccess> {
  switch (spec.kind) {
    case "sftp":
      return (await import("./sftp/sftp-home.js")).openSftpHomeAccess(spec, events);
    case "app-service":
      return (await import("./app-service/app-service-home.js")).openAppServiceHomeAccess(spec, events);
  }
}
