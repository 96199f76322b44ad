export function moduleRecordingHook(record: string): string;
