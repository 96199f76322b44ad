import { describe, expect, it } from "vitest";
import { exitCodeForError, exitCodeForStatus } from "./exit-codes.js";

describe("exit codes", () => {
  it("give each storage failure its own code", () => {
    expect(exitCodeForError("STORAGE_UNREACHABLE")).toBe(10);
    expect(exitCodeForError("STORAGE_AUTH")).toBe(11);
    expect(exitCodeForError("BACKUP_NOT_FOUND")).toBe(12);
    expect(exitCodeForError("STORAGE_NOT_FOUND")).toBe(12);
    expect(exitCodeForError("HOME_UNREACHABLE")).toBe(13);
    expect(exitCodeForError("HOME_REFUSED")).toBe(14);
    expect(exitCodeForError("LOCKED")).toBe(75);
    expect(exitCodeForError("INTERRUPTED")).toBe(130);
    expect(exitCodeForError("DATABASE")).toBe(1);
    expect(exitCodeForError(undefined)).toBe(1);
  });

  it("let a Failed backup exit as the storage or remote home error that failed it, and as 1 for anything else", () => {
    expect(exitCodeForStatus("Failed", "STORAGE_UNREACHABLE")).toBe(10);
    expect(exitCodeForStatus("Failed", "HOME_UNREACHABLE")).toBe(13);
    expect(exitCodeForStatus("Failed", "HOME_REFUSED")).toBe(14);
    expect(exitCodeForStatus("Failed", "STORAGE_AUTH")).toBe(11);
    expect(exitCodeForStatus("Failed", "DATABASE")).toBe(1);
    expect(exitCodeForStatus("Failed")).toBe(1);
    expect(exitCodeForStatus("PartiallySucceeded")).toBe(3);
    expect(exitCodeForStatus("Succeeded")).toBe(0);
  });
});
