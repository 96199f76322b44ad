import { remoteHomeAccess, type RemoteHomeAccess } from "../remote-access.js";
import type { SftpHomeSpec } from "../remote-home.js";
import { openSftpHome, type SftpHomeEvents } from "./connection.js";
import { SftpHomeReader } from "./sftp-reader.js";
import { SftpRestoreTarget } from "./sftp-restore-target.js";

/** A remote home over one SFTP connection: what a backup reads of it and what a restore writes. */
export type SftpHomeAccess = RemoteHomeAccess;

/**
 * Connects to the home's server (host key checked, see openSftpHome) and gives the
 * backup's reader and the restore's target, both served by this one connection.
 */
export async function openSftpHomeAccess(spec: SftpHomeSpec, events: SftpHomeEvents = {}): Promise<SftpHomeAccess> {
  const session = await openSftpHome(
    { address: spec.address, privateKey: spec.privateKey, privateKeyFile: spec.privateKeyFile, passphrase: spec.passphrase, password: spec.password, knownHosts: spec.knownHosts },
    events,
  );
  const reader = new SftpHomeReader(session, events);
  return remoteHomeAccess(reader.description, reader, new SftpRestoreTarget(session), () => session.close());
}
