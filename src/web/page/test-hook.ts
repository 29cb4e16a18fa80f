/// <reference lib="dom" />
/**
 * What a test drives instead of a person: a folder picker cannot be answered by a
 * script, so a test gives the page directory handles of the origin-private file system
 * (`navigator.storage.getDirectory()`, the same interface as a picked folder).
 */
import type { JobView } from './views.js';

export interface TestHook {
  useFolders(input: FileSystemDirectoryHandle, output: FileSystemDirectoryHandle): void;
  readonly view: JobView;
}

declare global {
  interface Window {
    unetflow?: TestHook;
  }
}

export function installTestHook(hook: TestHook): void {
  window.unetflow = hook;
}
