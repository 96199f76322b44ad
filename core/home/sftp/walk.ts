import type { Attributes, FileEntry } from "ssh2";
import { byCodeUnits } from "../../code-unit-order.js";
import { AppBackupError } from "../../errors.js";
import type { PathFilter } from "../../plan/filter.js";
import { reasonOf } from "../../plan/unreadable.js";
import type { WalkVisitor } from "../../plan/walk.js";
import { describeSftpAddress } from "./address.js";
import { sftpStatus, type SftpSession } from "./connection.js";

/** The local walk's words for what cannot go into a backup (see visitHome). */
const IGNORED_REASON = "not a regular file, folder or symlink (socket, FIFO or device)";

/** Folder listings asked for ahead of the walk, and symlink targets ahead in a folder: each waits a round trip. */
const foldersAhead = 8;
const linksAhead = 8;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Child {
  relative: string;
  absolute: string;
  attrs: Attributes;
}

interface Frame {
  /** The folder's kept names, sorted, with the attributes the listing gave. */
  children: Child[];
  /** The next child to report. */
  index: number;
  /** Its subfolders in order, and the next one to descend into. */
  subfolders: Child[];
  nextSubfolder: number;
  /** Symlink targets asked for ahead, and how far the folder was scanned for them. */
  links: Map<Child, Promise<Settled<string>>>;
  linkCursor: number;
}

/**
 * Walks a remote home over SFTP exactly as {@link visitHome} walks a local one: each
 * folder's names sorted (JS default sort), a folder reported before what it holds,
 * symlinks recorded as links and never followed, unreadable paths to
 * `visitor.unreadable`, sockets, FIFOs and devices to `visitor.ignored`.
 *
 * A listing's attributes are lstat's (OpenSSH reads them so), so no file costs a
 * round trip of its own; only symlinks do (readlink). Listings of the folders the
 * walk reaches next are asked for ahead, a few at a time, so a slow link does not
 * cost a round trip per folder; the reports stay in order.
 *
 * A lost connection stops the walk with HOME_UNREACHABLE.
 */
export async function visitSftpHome(session: SftpSession, root: string, filter: PathFilter, visitor: WalkVisitor): Promise<void> {
  const listings = new Map<string, Promise<Settled<FileEntry[]>>>();
  const stack: Frame[] = [];

  let listingsInFlight = 0;
  const list = (absolute: string) => {
    listingsInFlight++;
    return settle(session.request<FileEntry[]>((sftp, done) => sftp.readdir(absolute, done), `listing ${absolute}`)).then((settled) => {
      listingsInFlight--;
      prefetchFolders();
      return settled;
    });
  };
  const takeListing = (absolute: string) => {
    const listing = listings.get(absolute) ?? list(absolute);
    listings.delete(absolute);
    return listing;
  };
  // The next folders the walk will enter, nearest first, with at most `foldersAhead` listings
  // in flight (one more when the walk needs a folder none of them is). Listings fetched ahead
  // wait until the walk reaches them: at most `foldersAhead` per level of the folder walked.
  const prefetchFolders = () => {
    let window = foldersAhead;
    for (let level = stack.length - 1; level >= 0 && window > 0; level--) {
      const frame = stack[level]!;
      for (let next = frame.nextSubfolder; next < frame.subfolders.length && window > 0; next++, window--) {
        if (listingsInFlight >= foldersAhead) return;
        const folder = frame.subfolders[next]!;
        if (!listings.has(folder.absolute)) listings.set(folder.absolute, list(folder.absolute));
      }
    }
  };
  const prefetchLinks = (frame: Frame) => {
    while (frame.linkCursor < frame.children.length && frame.links.size < linksAhead) {
      const child = frame.children[frame.linkCursor++]!;
      if (typeOf(child.attrs) === S_IFLNK) frame.links.set(child, settle(session.request<string>((sftp, done) => sftp.readlink(child.absolute, done), `reading the symlink ${child.absolute}`)));
    }
  };
  const enter = async (relative: string, absolute: string, entries: FileEntry[]) => {
    const children: Child[] = [];
    for (const entry of entries.sort((a, b) => byCodeUnits(a.filename, b.filename))) {
      const childRelative = relative ? `${relative}/${entry.filename}` : entry.filename;
      if (filter.excludes(childRelative)) continue;
      const child = { relative: childRelative, absolute: joinRemote(absolute, entry.filename), attrs: entry.attrs };
      // Servers other than OpenSSH may list names without attributes: ask for them then.
      if (entry.attrs?.mode === undefined) {
        const stats = await settle(session.request<Attributes>((sftp, done) => sftp.lstat(child.absolute, done), `reading the attributes of ${child.absolute}`));
        if (!stats.ok) {
          unreadable(childRelative, stats.error);
          continue;
        }
        child.attrs = stats.value;
      }
      children.push(child);
    }
    const frame: Frame = { children, index: 0, subfolders: children.filter((child) => typeOf(child.attrs) === S_IFDIR), nextSubfolder: 0, links: new Map(), linkCursor: 0 };
    stack.push(frame);
    prefetchLinks(frame);
    prefetchFolders();
  };

  // Worked out before the visitor is asked: a lost connection throws here, whether or not the visitor takes unreadable paths.
  const unreadable = (relative: string, error: unknown) => {
    const reason = pathReason(error);
    visitor.unreadable?.(relative, reason);
  };

  try {
    const rootListing = await takeListing(root);
    if (!rootListing.ok) throw homeFailure(session, root, rootListing.error);
    await enter("", root, rootListing.value);
    await walkFrames();
  } finally {
    // Listings that arrive after a failure must not ask for more.
    stack.length = 0;
  }

  async function walkFrames(): Promise<void> {
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      const child = frame.children[frame.index++];
      if (!child) {
        stack.pop();
        continue;
      }
      const { attrs } = child;
      const type = typeOf(attrs);
      const mtime = new Date(attrs.mtime * 1000);
      if (type === S_IFLNK) {
        const target = await frame.links.get(child)!;
        frame.links.delete(child);
        prefetchLinks(frame);
        if (!target.ok) {
          unreadable(child.relative, target.error);
          continue;
        }
        visitor.entry({ path: child.relative, kind: "symlink", size: Buffer.byteLength(target.value), mtime, mode: attrs.mode, linkTarget: target.value });
      } else if (type === S_IFDIR) {
        visitor.entry({ path: child.relative, kind: "directory", size: 0, mtime, mode: attrs.mode });
        frame.nextSubfolder++;
        const listing = await takeListing(child.absolute);
        if (!listing.ok) {
          unreadable(child.relative, listing.error);
          prefetchFolders();
          continue;
        }
        await enter(child.relative, child.absolute, listing.value);
      } else if (type === S_IFREG) {
        visitor.entry({ path: child.relative, kind: "file", size: attrs.size, mtime, mode: attrs.mode });
      } else {
        visitor.ignored?.(child.relative, IGNORED_REASON);
      }
    }
  }
}

function typeOf(attrs: Attributes): number {
  return attrs.mode & S_IFMT;
}

function joinRemote(folder: string, name: string): string {
  return folder.endsWith("/") ? `${folder}${name}` : `${folder}/${name}`;
}

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * Why a path could not be read, in the local walk's words (permission denied (EACCES),
 * vanished (ENOENT)); a lost connection is no such reason and stops the walk.
 */
export function pathReason(error: unknown): string {
  if (error instanceof AppBackupError) throw error;
  const code = (error as { code?: unknown }).code;
  if (code === sftpStatus.permissionDenied) return reasonOf(Object.assign(new Error("permission denied"), { code: "EACCES" }));
  if (code === sftpStatus.noSuchFile) return reasonOf(Object.assign(new Error("no such file"), { code: "ENOENT" }));
  return `the SFTP server refused: ${(error as Error).message}`;
}

/** Why the home itself cannot be walked: missing, or not listable by the user logged in. */
export function homeFailure(session: SftpSession, root: string, error: unknown): AppBackupError {
  if (error instanceof AppBackupError) return error;
  const home = describeSftpAddress({ ...session.address, path: root });
  const code = (error as { code?: unknown }).code;
  if (code === sftpStatus.noSuchFile) {
    return new AppBackupError("HOME_MISSING", `The app's home ${home} does not exist on the server.`, 'Check the path in "home", or create the folder on the server.');
  }
  return new AppBackupError(
    "HOME_MISSING",
    `The app's home ${home} cannot be listed by user "${session.address.user}": ${pathReason(error)}.`,
    'Log in as a user who can read the home and everything in it, or give this user read access on the server (e.g. chmod -R u+rX, g+rX); "home" in the configuration names it.',
  );
}
