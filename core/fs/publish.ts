import { randomBytes } from "node:crypto";
import { link, rename, rm, writeFile } from "node:fs/promises";

/**
 * Files are published whole: written under a temporary name first, then moved
 * into place in one step, so a reader never sees half of one. The temporary
 * file is removed whatever happens.
 */
export interface PublishOptions {
  /** Where the content is written first; beside the target by default. Same filesystem as the target. */
  temp?: string;
  /** Permissions of the published file. */
  mode?: number;
  /** Flush the content to disk before it is published, for files a crash must not lose. */
  flush?: boolean;
}

/**
 * Publishes `data` under `target` unless something is there: link(2) fails
 * when the name exists, so of two writers exactly one wins. False when the
 * name was taken.
 */
export async function publishExclusive(target: string, data: string | Buffer, options: PublishOptions = {}): Promise<boolean> {
  return withTempFile(target, data, options, (temp) => linkExclusive(temp, target));
}

/**
 * Gives the complete file `temp` the name `target` unless something is there
 * already (link(2) never replaces). False when the name was taken; `temp` is
 * left for the caller to remove.
 */
export async function linkExclusive(temp: string, target: string): Promise<boolean> {
  try {
    await link(temp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Replaces `target`'s content in one rename, so a reader sees the old content or the new, never a mix. */
export async function publishReplacing(target: string, data: string | Buffer, options: PublishOptions = {}): Promise<void> {
  await withTempFile(target, data, options, (temp) => rename(temp, target));
}

async function withTempFile<T>(target: string, data: string | Buffer, options: PublishOptions, publish: (temp: string) => Promise<T>): Promise<T> {
  const temp = options.temp ?? `${target}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, data, { flag: "wx", mode: options.mode, flush: options.flush });
    return await publish(temp);
  } finally {
    await rm(temp, { force: true });
  }
}
