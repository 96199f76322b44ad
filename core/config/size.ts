const units: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Parses `10GB`, `512 MB`, `4GiB` or a plain byte count. Units are binary (1 GB = 1024³ bytes), as Azure counts. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
  const match = value.trim().match(/^(\d+(?:\.\d+)?)\s*([a-z]*)$/i);
  if (!match) return undefined;
  const factor = units[(match[2] || "b").toLowerCase()];
  if (!factor) return undefined;
  const bytes = Math.floor(Number(match[1]) * factor);
  return bytes > 0 ? bytes : undefined;
}

/** `12.3 GB`, the way Azure's size-limit message prints sizes. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const steps = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < steps.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${steps[unit]}`;
}
