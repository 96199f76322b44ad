import { expect } from "vitest";
import { AppBackupError } from "../../core/errors.js";

/** The AppBackupError `run` throws; the test fails on another kind of error, and with `otherwise` when nothing is thrown. */
export function thrownAppBackupError(run: () => unknown, otherwise = "expected an error"): AppBackupError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppBackupError);
    return error as AppBackupError;
  }
  throw new Error(otherwise);
}

/** The AppBackupError `run` rejects with; as `thrownAppBackupError`, for work that is async. */
export async function rejectedAppBackupError(run: () => Promise<unknown>, otherwise = "expected an error"): Promise<AppBackupError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppBackupError);
    return error as AppBackupError;
  }
  throw new Error(otherwise);
}
