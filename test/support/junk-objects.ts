import { randomBytes } from "node:crypto";

/** Someone else's 30 MB XML document: valid XML, no manifest of ours. */
export function foreignXml(megabytes = 30): Buffer {
  const book = (i: number) => `  <book id="b${i}"><title>Title ${i}</title><author>Author ${i % 97}</author><price>${i % 50}.99</price></book>\n`;
  const parts = ['<?xml version="1.0" encoding="utf-8"?>\n<catalog>\n'];
  let size = parts[0]!.length;
  for (let i = 0; size < megabytes * 1024 * 1024; i++) {
    const line = book(i);
    parts.push(line);
    size += line.length;
  }
  parts.push("</catalog>\n");
  return Buffer.from(parts.join(""));
}

/** The billion laughs: a few hundred bytes that a parser expanding entities turns into gigabytes. */
export const xmlBomb = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE BackupManifest [ <!ENTITY lol "lol">',
  ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`),
  "]>",
  "<BackupManifest><AppName>shop</AppName><BackupName>&lol9;</BackupName></BackupManifest>",
].join("\n");

/** A document that starts as ours but whose head never ends within any sane size. */
export function endlessHead(megabytes = 30): Buffer {
  const warning = "    <Warning>" + "w".repeat(1000) + "</Warning>\n";
  return Buffer.from(
    `<?xml version="1.0" encoding="utf-8"?>\n<BackupManifest formatVersion="1">\n  <AppName>shop</AppName>\n  <Warnings>\n${warning.repeat(megabytes * 1024)}  </Warnings>\n</BackupManifest>\n`,
  );
}

/** Objects a container may hold beside the backups: none of them is ours, none may crash or flood a command. */
export function junkObjects(): Array<{ name: string; data: Buffer }> {
  return [
    { name: "big.xml", data: foreignXml() },
    { name: "empty.xml", data: Buffer.alloc(0) },
    { name: "binary.xml", data: randomBytes(256 * 1024) },
    { name: "bomb.xml", data: Buffer.from(xmlBomb) },
    // Named as one of the app's scheduled backups, so the app's own listing has to look at it.
    { name: "shop_20300103000000.xml", data: Buffer.from(xmlBomb) },
    { name: "shop_20300104000000.xml", data: foreignXml(2) },
    { name: "endless-head.xml", data: endlessHead() },
    { name: "not a backup name.xml", data: foreignXml(1) },
  ];
}
