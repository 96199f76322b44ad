import { describe, expect, it } from "vitest";
import { AppBackupError, withCommandsAs } from "./errors.js";

describe("hints that name another command", () => {
  const error = new AppBackupError("BACKUP_NOT_FOUND", "No backup named shop_1.", "Run `app-backup list --config FILE` to see the backups in the container.");

  it("are said by each front end its own way", () => {
    expect(error.describe((name) => `\`app-backup ${name} --config /srv/shop/app-backup.yml\``)).toBe(
      "No backup named shop_1.\nRun `app-backup list --config /srv/shop/app-backup.yml` to see the backups in the container.",
    );
    expect(withCommandsAs(error.hint!, (name) => `\`operation: ${name}\``)).toBe("Run `operation: list` to see the backups in the container.");
  });

  it("keep the placeholder when no front end says otherwise", () => {
    expect(error.describe()).toContain("`app-backup list --config FILE`");
  });
});
