import { describe, expect, it } from "vitest";
import { describeSftpAddress, isSftpAddress, parseSftpAddress } from "./address.js";
import { thrownAppBackupError } from "../../../test/support/app-backup-error.js";

const refusal = (text: string) => thrownAppBackupError(() => parseSftpAddress(text), `${text} was accepted`);

describe("parseSftpAddress", () => {
  it("reads user, host, port and path, with port 22 by default", () => {
    expect(parseSftpAddress("sftp://deploy@example.com/srv/app")).toEqual({ user: "deploy", host: "example.com", port: 22, path: "/srv/app" });
    expect(parseSftpAddress("sftp://deploy@example.com:2222/srv/app/")).toEqual({ user: "deploy", host: "example.com", port: 2222, path: "/srv/app" });
  });

  it("reads IPv6 addresses in brackets", () => {
    expect(parseSftpAddress("sftp://root@[::1]:2022/home/site")).toEqual({ user: "root", host: "::1", port: 2022, path: "/home/site" });
    expect(parseSftpAddress("sftp://root@[fe80::1]/x")).toMatchObject({ host: "fe80::1", port: 22 });
  });

  it("percent-decodes the user and the path", () => {
    expect(parseSftpAddress("sftp://first%20last@h/srv/my%20app/caf%C3%A9%40home")).toEqual({
      user: "first last",
      host: "h",
      port: 22,
      path: "/srv/my app/café@home",
    });
  });

  it("refuses / alone, a missing path and relative forms", () => {
    expect(refusal("sftp://u@h/").message).toContain("/ alone");
    expect(refusal("sftp://u@h").message).toContain("/ alone");
    expect(refusal("sftp://u@h//").message).toContain("/ alone");
    expect(refusal("sftp://u@h/~/site").message).toContain("absolute");
    expect(refusal("sftp://u@h/srv/../etc").message).toContain("..");
  });

  it("refuses a password in the address without repeating it", () => {
    for (const text of ["sftp://deploy:S3cretPass@example.com/srv/app", "sftp://deploy:S3cret/Pass@example.com/srv/app", "sftp://deploy:S3cretPass@[::1]:2222/srv"]) {
      const error = refusal(text);
      expect(error.describe()).toContain("password: ${env:NAME}");
      expect(error.describe()).not.toContain("S3cret");
      expect(error.describe()).not.toContain("Pass");
    }
  });

  it("says what is wrong with other malformed addresses", () => {
    expect(refusal("sftp:///srv/app").message).toContain("no user");
    expect(refusal("sftp://u@/srv/app").message).toContain("no host");
    expect(refusal("sftp://u@h:99999/srv").message).toContain("port");
    expect(refusal("sftp://u@h:abc/srv").message).toContain("port");
    expect(refusal("sftp://u@::1/srv").message).toContain("brackets");
    expect(refusal("sftp://u@h/srv/%zz").message).toContain("%-escape");
    expect(refusal("http://u@h/srv").message).toContain("sftp://");
  });
});

describe("describeSftpAddress", () => {
  it("names user, host, port and path", () => {
    expect(describeSftpAddress(parseSftpAddress("sftp://deploy@example.com/srv/app"))).toBe("sftp://deploy@example.com:22/srv/app");
    expect(describeSftpAddress(parseSftpAddress("sftp://deploy@[::1]:2222/srv/app"))).toBe("sftp://deploy@[::1]:2222/srv/app");
  });
});

describe("isSftpAddress", () => {
  it("tells an SFTP home from a local folder", () => {
    expect(isSftpAddress("sftp://u@h/srv")).toBe(true);
    expect(isSftpAddress("SFTP://u@h/srv")).toBe(true);
    expect(isSftpAddress("./site")).toBe(false);
    expect(isSftpAddress("/srv/sftp://x")).toBe(false);
  });
});
