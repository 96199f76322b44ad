let onLoaded: (() => void) | undefined;
let commandWasLoaded = false;

/** What the process does once the command that runs has been imported, before it starts (see cli/start.ts). */
export function whenCommandLoaded(hook: () => void): void {
  onLoaded = hook;
}

/** A command's implementation, imported when the command runs; the hook is called once it is loaded. */
export async function loaded<T>(loading: Promise<T>): Promise<T> {
  const module = await loading;
  commandWasLoaded = true;
  onLoaded?.();
  return module;
}

/** Whether a command's implementation was loaded: false for help, the version, and arguments commander refused. */
export const commandLoaded = (): boolean => commandWasLoaded;
