import type { VerifyResult } from "../restore/verify.js";
import { formatCount, formatSize } from "./format.js";

export type VerifyStatus = "Verified" | "Mismatch" | "NotRestorable";

export function verifyStatus(result: VerifyResult): VerifyStatus {
  return result.notRestorable ? "NotRestorable" : result.ok ? "Verified" : "Mismatch";
}

/**
 * What was checked, as a sentence; `readDataHint` tells the reader how their
 * front end asks for the entries' content to be checked too.
 */
export function verifyChecked(result: VerifyResult, readDataHint: string): string {
  return result.readData
    ? `${formatCount(result.entries)} entries listed, ${formatCount(result.entriesRead)} read (${formatSize(result.bytesRead)}) and checked against their SHA-256`
    : `${formatCount(result.entries)} entries checked against the zip's central directory (${readDataHint} to check their content too)`;
}
