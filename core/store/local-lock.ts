import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { AppBackupError } from "../errors.js";
import { publishExclusive, publishReplacing } from "../fs/publish.js";
import type { LockAttempt, Locker, LockOptions, StoreLock } from "./locker.js";
import { assertPlainObjectName } from "./object-name.js";
import { partialPathOf } from "./partial-file.js";

/** The locks of a local folder container. */
export class LocalLocker implements Locker {
  constructor(private readonly root: string) {}

  async tryLock(name: string, options: LockOptions): Promise<LockAttempt> {
    assertPlainObjectName(name, this.root);
    return tryLocalLock(this.root, name, options);
  }
}

/**
 * A lock in a local folder, safe between processes and hosts sharing the folder.
 *
 * The lock is a series of generation files `{name}.1`, `{name}.2`, ...; the
 * highest generation is the lock's state. Each file is published complete with
 * link(2), which fails when the name exists, so creating generation n+1 is a
 * compare-and-swap: when two runners both find generation n expired, both try
 * to create n+1 and exactly one succeeds. The highest file is never deleted
 * (releasing rewrites it as released), so a number is never handed out twice;
 * a winner deletes only the generations below its own.
 */
async function tryLocalLock(root: string, name: string, options: LockOptions): Promise<LockAttempt> {
  await mkdir(root, { recursive: true });
  let held: LockRecord | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const generations = await generationsOf(root, name);
    const top = generations.at(-1);
    if (top !== undefined) {
      const record = await readRecord(root, name, top);
      // Removed between listing and reading: a newer generation exists, look again.
      if (record === "missing") continue;
      if (record !== "corrupt" && isLive(record)) {
        held = record;
        return { acquired: false, holder: record.holder, expiresAt: new Date(record.expiresAt) };
      }
    }
    const generation = (top ?? 0) + 1;
    const record = newRecord(options);
    if (!(await publishRecord(root, generationFile(name, generation), record))) continue;

    const after = await generationsOf(root, name);
    if (after.at(-1)! > generation) {
      // Someone with a newer view moved past this generation; it does not count.
      await rm(path.join(root, generationFile(name, generation)), { force: true });
      continue;
    }
    for (const older of after) {
      if (older < generation) await rm(path.join(root, generationFile(name, older)), { force: true });
    }
    return { acquired: true, lock: new LocalLock(root, name, generation, record, options.ttlMs) };
  }
  return { acquired: false, holder: held?.holder, expiresAt: held ? new Date(held.expiresAt) : undefined };
}

interface LockRecord {
  token: string;
  holder: string;
  pid: number;
  host: string;
  acquiredAt: string;
  expiresAt: string;
  released?: boolean;
}

class LocalLock implements StoreLock {
  constructor(
    private readonly root: string,
    private readonly name: string,
    private readonly generation: number,
    private record: LockRecord,
    readonly ttlMs: number,
  ) {}

  async renew(): Promise<void> {
    if (!(await this.stillHeld())) {
      const top = (await generationsOf(this.root, this.name)).at(-1);
      const current = top === undefined ? undefined : await readRecord(this.root, this.name, top);
      const by = current && typeof current === "object" ? ` by ${current.holder}` : "";
      throw new AppBackupError(
        "LOCKED",
        `The lock ${this.name} in ${this.root} expired before it was renewed and was taken${by}.`,
        "Another runner may be backing up the same app now; give the lock a longer time-to-live.",
      );
    }
    this.record = { ...this.record, expiresAt: new Date(Date.now() + this.ttlMs).toISOString() };
    await replace(this.root, generationFile(this.name, this.generation), this.record);
  }

  async release(): Promise<void> {
    if (!(await this.stillHeld())) return;
    // Kept as the highest generation, marked released: see tryLocalLock.
    this.record = { ...this.record, released: true, expiresAt: new Date().toISOString() };
    await replace(this.root, generationFile(this.name, this.generation), this.record);
  }

  async discard(): Promise<void> {
    if (!(await this.stillHeld())) return;
    await rm(path.join(this.root, generationFile(this.name, this.generation)), { force: true });
  }

  private async stillHeld(): Promise<boolean> {
    const top = (await generationsOf(this.root, this.name)).at(-1);
    if (top !== this.generation) return false;
    const current = await readRecord(this.root, this.name, this.generation);
    return typeof current === "object" && current.token === this.record.token && !current.released;
  }
}

function newRecord(options: LockOptions): LockRecord {
  const now = Date.now();
  return {
    token: randomUUID(),
    holder: options.holder,
    pid: process.pid,
    host: hostname(),
    acquiredAt: new Date(now).toISOString(),
    expiresAt: new Date(now + options.ttlMs).toISOString(),
  };
}

function isLive(record: LockRecord): boolean {
  return !record.released && Date.parse(record.expiresAt) > Date.now();
}

const generationFile = (name: string, generation: number) => `${name}.${generation}`;

async function generationsOf(root: string, name: string): Promise<number[]> {
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\d{1,15})$`);
  const generations: number[] = [];
  for (const entry of await readdir(root)) {
    const match = entry.match(pattern);
    if (match) generations.push(Number(match[1]));
  }
  return generations.sort((a, b) => a - b);
}

async function readRecord(root: string, name: string, generation: number): Promise<LockRecord | "missing" | "corrupt"> {
  let text: string;
  try {
    text = await readFile(path.join(root, generationFile(name, generation)), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    return typeof record.token === "string" && typeof record.expiresAt === "string" ? record : "corrupt";
  } catch {
    return "corrupt";
  }
}

/** Publishes a complete file under `name` unless that name exists: false when it does. */
function publishRecord(root: string, name: string, record: LockRecord): Promise<boolean> {
  return publishExclusive(path.join(root, name), recordText(record), { temp: partialPathOf(root, name) });
}

/** Replaces a file's content in one step, so a reader sees the old record or the new one. */
function replace(root: string, name: string, record: LockRecord): Promise<void> {
  return publishReplacing(path.join(root, name), recordText(record), { temp: partialPathOf(root, name) });
}

// Temp files take the same hidden prefix as partial uploads, so listings never show them.
const recordText = (record: LockRecord) => `${JSON.stringify(record)}\n`;
