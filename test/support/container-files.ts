import { readdir } from "node:fs/promises";

/**
 * The objects of a local container, sorted: what `ls` shows, without the
 * hidden files the store keeps beside them (metadata records, uploads in progress).
 */
export async function containerObjects(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith(".")).sort();
}
