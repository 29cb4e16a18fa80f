/**
 * What the browser tests of src/web/image and src/web/engine call in the page, bundled
 * as the web build bundles (nothing of Node may be in it).
 */
import * as ort from 'onnxruntime-web';
import { inspectImageBytes, readImageBytes } from '../../../src/web/image/decode.js';
import { encodeImage } from '../../../src/web/image/encode.js';
import { openWebPredictor } from '../../../src/web/engine/predictor.js';

ort.env.wasm.wasmPaths = new URL('./ort/', (globalThis as unknown as { location: { href: string } }).location.href).href;
Object.assign(globalThis, { unetflowWeb: { ort, inspectImageBytes, readImageBytes, encodeImage, openWebPredictor } });
