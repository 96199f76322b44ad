import type { HomeReader, RemoteRestoreTarget } from "./home.js";

/** A remote home's reader and restore target over one connection. */
export type RemoteHomeAccess = HomeReader & RemoteRestoreTarget;

type ReaderSteps = Omit<HomeReader, "description" | "close">;
type TargetSteps = Omit<RemoteRestoreTarget, "description" | "close">;

/** One object for both roles of a remote home, each step served by the medium's reader or target. */
export function remoteHomeAccess(description: string, reader: ReaderSteps, target: TargetSteps, close: () => Promise<void>): RemoteHomeAccess {
  return {
    description,
    readsOnMainThread: reader.readsOnMainThread,
    loadFilter: (inline) => reader.loadFilter(inline),
    walk: (filter, options, spool) => reader.walk(filter, options, spool),
    addContent: (entries, zip, context) => reader.addContent(entries, zip, context),
    listCurrent: (spool) => target.listCurrent(spool),
    pendingJournal: () => target.pendingJournal(),
    recover: () => target.recover(),
    begin: (journal) => target.begin(journal),
    record: (journal) => target.record(journal),
    upload: (localTree, options) => target.upload(localTree, options),
    switchTo: (journal) => target.switchTo(journal),
    rollBack: (journal) => target.rollBack(journal),
    close,
  };
}
