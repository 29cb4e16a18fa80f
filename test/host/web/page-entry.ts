/**
 * What the browser-host tests load into the page: the page's host implementations and
 * the ledger's line codec, as the page bundle has them, on `globalThis.hosts`.
 */
import { HandleFolder } from '../../../src/web/host/folder.js';
import { FolderLedgerStore } from '../../../src/web/host/ledger-store.js';
import { HandleModelFiles, UrlModelFiles } from '../../../src/web/host/model-files.js';
import { browserThreads } from '../../../src/web/host/threads.js';
import { FolderLedger, sha256Hex } from '../../../src/web/host/ledger.js';
import { watchHandleFolder } from '../../../src/web/host/watch.js';
import { LedgerEntryCodec, readLines } from '../../../src/pipeline/ledger-lines.js';

(globalThis as { hosts?: unknown }).hosts = { HandleFolder, FolderLedgerStore, HandleModelFiles, UrlModelFiles, browserThreads, FolderLedger, sha256Hex, watchHandleFolder, LedgerEntryCodec, readLines };
