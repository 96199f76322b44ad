/**
 * What is wrong in a YAML or JSON document, and where, without the source line
 * the parser quotes: a configuration or settings line may hold a password.
 */
export function describeYamlSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const linePos = (error as { linePos?: Array<{ line: number; col: number }> }).linePos;
  // The parser's message is "what at line L, column C:\n\n<quoted source>\n  ^"; only its first line is kept.
  const what = message.split("\n")[0]!.replace(/:\s*$/, "");
  if (linePos?.[0] && !/ at line \d+/.test(what)) return `${what} at line ${linePos[0].line}, column ${linePos[0].col}`;
  return what;
}
