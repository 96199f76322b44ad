/**
 * Credentials in text we did not produce ourselves (a driver's or an SDK's message), by
 * pattern: the value after a `password=`-like key, quoted (`"a""b"`, `'a\'b'`) or not,
 * up to the `;`, the line's end, or the next `key=` after a `,`, `&` or space.
 * An unclosed quote masks the rest of the text.
 */
export function maskCredentialAssignments(text: string): string {
  const keyPattern = /(^|[^A-Za-z0-9_])((?:ssl)?pass(?:word|wd)|pwd)(\s*=\s*)/gi;
  let out = "";
  let position = 0;
  for (let match = keyPattern.exec(text); match; match = keyPattern.exec(text)) {
    const valueStart = match.index + match[0].length;
    if (valueStart < position) continue;
    const valueEnd = assignedValueEnd(text, valueStart);
    const value = text.slice(valueStart, valueEnd);
    keyPattern.lastIndex = Math.max(valueEnd, valueStart + 1);
    // A `${env:VAR}` reference names a secret without holding it.
    if (value === "" || value === "***" || /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) continue;
    out += `${text.slice(position, valueStart)}***`;
    position = valueEnd;
  }
  return out + text.slice(position);
}

function assignedValueEnd(text: string, start: number): number {
  const quote = text[start];
  if (quote === '"' || quote === "'") {
    let index = start + 1;
    while (index < text.length) {
      if (text[index] === "\\") index += 2;
      else if (text[index] === quote && text[index + 1] === quote) index += 2;
      else if (text[index] === quote) return index + 1;
      else index++;
    }
    return text.length;
  }
  // An already masked value is left as it is, with what follows it.
  if (text.startsWith("***", start) && !/[^\s,;&"'<>)\]}]/.test(text[start + 3] ?? " ")) return start + 3;
  let index = start;
  while (index < text.length) {
    const character = text[index]!;
    if (";\r\n\"'<>".includes(character)) break;
    if (/[,&\s]/.test(character) && /^[,&\s]\s*[A-Za-z_][\w .-]*=/.test(text.slice(index, index + 80))) break;
    index++;
  }
  return index;
}
