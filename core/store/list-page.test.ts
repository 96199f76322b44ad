import { describe, expect, it } from "vitest";
import { MalformedListPageError, parseListPage } from "./list-page.js";

const page = (blobs: string, tail = "<NextMarker />") =>
  `\uFEFF<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://127.0.0.1/devstoreaccount1" ContainerName="c"><Prefix>shop_</Prefix><MaxResults>2</MaxResults><Blobs>${blobs}</Blobs>${tail}</EnumerationResults>`;

const blob = (name: string, extra = "", nameAttributes = "") =>
  `<Blob><Name${nameAttributes}>${name}</Name><Properties><Creation-Time>Mon, 03 Feb 2031 04:05:06 GMT</Creation-Time><Last-Modified>Mon, 03 Feb 2031 04:05:07 GMT</Last-Modified><Etag>0x1</Etag><Content-Length>42</Content-Length><Content-Type>application/xml</Content-Type><BlobType>BlockBlob</BlobType></Properties>${extra}</Blob>`;

describe("a page of a blob listing", () => {
  it("gives each blob's name, size, time and metadata, with XML's escapes undone", () => {
    const parsed = parseListPage(
      Buffer.from(page(
        blob("a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x1D11E;.xml", "<Metadata><appbackupapp>Caf%C3%A9</appbackupapp><note>1 &lt; 2 &amp; &quot;3&quot;</note><empty /><Name>not the blob's</Name></Metadata>") +
          blob("%EF%BF%BE.log", "<Metadata />", ' Encoded="true"'),
        "<NextMarker>2!8!c2hvcF8y&amp;</NextMarker>",
      )),
    );
    expect(parsed).toEqual({
      blobs: [
        {
          name: "a&b<c>\"'é𝄞.xml",
          size: 42,
          lastModified: new Date("2031-02-03T04:05:07Z"),
          metadata: { appbackupapp: "Caf%C3%A9", note: '1 < 2 & "3"', empty: "", Name: "not the blob's" },
        },
        { name: "\uFFFE.log", size: 42, lastModified: new Date("2031-02-03T04:05:07Z") },
      ],
      nextMarker: "2!8!c2hvcF8y&",
    });
  });

  it("reads an empty page and the last page", () => {
    expect(parseListPage(Buffer.from(page("").replace("<Blobs></Blobs>", "<Blobs />")))).toEqual({ blobs: [], nextMarker: undefined });
    expect(parseListPage(Buffer.from(page(blob("a.zip"))))).toEqual({ blobs: [expect.objectContaining({ name: "a.zip" })], nextMarker: undefined });
  });

  it.each([
    ["an empty reply", "", /not a blob list/],
    ["another XML document", '<?xml version="1.0"?><Error><Code>Nope</Code></Error>', /not a blob list/],
    ["binary", "\u0000\u0001PK\u0003\u0004", /not a blob list/],
    [
      "a document type that declares entities (the billion laughs)",
      page(blob("&lol9;")).replace("<EnumerationResults", '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol9 "&lol;&lol;&lol;">]><EnumerationResults'),
      /not a blob list|document type/,
    ],
    ["a document type after the root's start", page(blob("a")).replace("<Blobs>", '<Blobs><!DOCTYPE x [<!ENTITY e "e">]>'), /document type/],
    ["a CDATA section", page(blob("<![CDATA[a]]>")), /CDATA/],
    ["an entity of HTML's", page(blob("caf&eacute;")), /'&' that starts no known entity/],
    ["a bare '&'", page(blob("a&b")), /'&' that starts no known entity/],
    ["a character beyond Unicode", page(blob("&#x110000;")), /does not exist/],
    ["an unclosed blob", page(blob("a").replace("</Blob>", "")), /not closed/],
    ["an unclosed list", page(blob("a")).replace("</Blobs>", ""), /not closed/],
    ["no list at all", page("").replace("<Blobs></Blobs>", ""), /no list of blobs/],
    ["a blob without a name", page(blob("a").replace(/<Name>a<\/Name>/, "")), /has no name/],
    ["a blob without properties", page("<Blob><Name>a</Name></Blob>"), /has no properties/],
    ["a size that is not a number", page(blob("a").replace("<Content-Length>42", "<Content-Length>-1")), /has no size/],
    ["a time that is not a time", page(blob("a").replace(/<Last-Modified>[^<]*/, "<Last-Modified>yesterday")), /last-modified time/],
    ["metadata that is not well formed", page(blob("a", "<Metadata><a>1</b></Metadata>")), /metadata of blob "a" is not well formed/],
    ["an encoded name that is not percent-encoding", page(blob("%E0%A4%A", "", ' Encoded="true"')), /not valid percent-encoding/],
  ])("refuses %s with a reason", (_what, xml, reason) => {
    const error = (() => {
      try {
        parseListPage(Buffer.from(xml));
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(MalformedListPageError);
    expect((error as Error).message).toMatch(reason);
  });

  it("reads a page of 5,000 blobs with metadata in one pass, whatever its names hold", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `shop_${String(i).padStart(14, "0")}&amp;.xml`);
    const parsed = parseListPage(Buffer.from(page(names.map((name) => blob(name, "<Metadata><appbackupcatalog>1</appbackupcatalog></Metadata>")).join(""))));
    expect(parsed.blobs).toHaveLength(5000);
    expect(parsed.blobs[4999]).toEqual({ name: "shop_00000000004999&.xml", size: 42, lastModified: new Date("2031-02-03T04:05:07Z"), metadata: { appbackupcatalog: "1" } });
  });
});
