export function moduleRecordingHook(record: string): string;
export function modulesRun(loadedUrls: string[], coverageDir: string, bundleDir: string): Promise<string[]>;
