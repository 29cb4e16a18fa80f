import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationFromPhys, calibrationFromTiff } from '../../src/io/pixel-size.js';

const ome = (pixels: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" ${pixels} SizeX="4" SizeY="3"></Pixels></Image></OME>`;

test('OME-XML sizes are converted from their unit, and micrometres are the default', () => {
  assert.deepEqual(calibrationFromTiff({ description: ome('PhysicalSizeX="325" PhysicalSizeXUnit="nm" PhysicalSizeY="0.4" PhysicalSizeYUnit="µm"') }), {
    pixelSize: { y: 0.4, x: 0.325 },
    problems: [],
  });
  assert.deepEqual(calibrationFromTiff({ description: ome("PhysicalSizeY='2' PhysicalSizeX='1.5'") }).pixelSize, { y: 2, x: 1.5 });
  assert.deepEqual(calibrationFromTiff({ description: ome('PhysicalSizeX="0.001" PhysicalSizeXUnit="mm" PhysicalSizeY="0.001" PhysicalSizeYUnit="mm"') }).pixelSize, { y: 1, x: 1 });
});

test('an ImageJ description takes its unit over 1 / XResolution and 1 / YResolution', () => {
  const fields = { xResolution: [4, 1], yResolution: [2, 1], resolutionUnit: 1 } as const;
  assert.deepEqual(calibrationFromTiff({ ...fields, description: 'ImageJ=1.54f\nunit=micron\n' }), { pixelSize: { y: 0.5, x: 0.25 }, problems: [] });
  assert.deepEqual(calibrationFromTiff({ ...fields, description: 'ImageJ=1.54f\nunit=\\u00B5m\n' }).pixelSize, { y: 0.5, x: 0.25 });
  assert.deepEqual(calibrationFromTiff({ ...fields, description: 'ImageJ=1.54f\nunit=nm\nspacing=2\n' }).pixelSize, { y: 0.0005, x: 0.00025 });
  // Uncalibrated ImageJ files say unit=pixel, or nothing.
  assert.deepEqual(calibrationFromTiff({ ...fields, description: 'ImageJ=1.54f\nunit=pixel\n' }), { problems: [] });
  assert.deepEqual(calibrationFromTiff({ ...fields, description: 'ImageJ=1.54f\nimages=3\n' }), { problems: [] });
});

test('resolution tags count pixels per centimetre or per inch, inch when ResolutionUnit is absent', () => {
  assert.deepEqual(calibrationFromTiff({ xResolution: [12500, 1], yResolution: [6250, 1], resolutionUnit: 3 }).pixelSize, { y: 1.6, x: 0.8 });
  assert.deepEqual(calibrationFromTiff({ xResolution: [12700, 1], yResolution: [12700, 1], resolutionUnit: 2 }).pixelSize, { y: 2, x: 2 });
  assert.deepEqual(calibrationFromTiff({ xResolution: [25400, 2], yResolution: [25400, 2] }).pixelSize, { y: 2, x: 2 });
  assert.deepEqual(calibrationFromTiff({ xResolution: [3, 1], yResolution: [3, 1], resolutionUnit: 1 }), { problems: [] });
});

test('the resolutions software writes for uncalibrated images (72 and 96 dpi, libvips 1 px/mm) are no calibration', () => {
  for (const dpi of [[72, 1], [96, 1], [13316915, 524288]] as [number, number][]) {
    assert.deepEqual(calibrationFromTiff({ xResolution: dpi, yResolution: dpi, resolutionUnit: 2 }), { problems: [] }, `${dpi}`);
  }
  assert.deepEqual(calibrationFromPhys({ x: 2835, y: 2835, unit: 1 }), { problems: [] }); // 72 dpi
  assert.deepEqual(calibrationFromPhys(undefined), { problems: [] });
});

test('zero, negative, missing and non-numeric sizes are problems, not a calibration', () => {
  const cases: [Parameters<typeof calibrationFromTiff>[0], RegExp][] = [
    [{ description: ome('PhysicalSizeX="0" PhysicalSizeY="0.5"') }, /OME-XML \(PhysicalSizeY="0.5", PhysicalSizeX="0"\) gives no usable pixel size/],
    [{ description: ome('PhysicalSizeX="-0.5" PhysicalSizeY="-0.5"') }, /OME-XML .* gives no usable pixel size: expected positive numbers/],
    [{ description: ome('PhysicalSizeX="NaN" PhysicalSizeY="0.5"') }, /OME-XML .* gives no usable pixel size/],
    [{ description: ome('PhysicalSizeX="0.5"') }, /OME-XML gives PhysicalSizeX only: expected both/],
    [{ description: 'ImageJ=1.54f\nunit=micron\n' }, /unit=micron but XResolution \/ YResolution are missing/],
    [{ description: 'ImageJ=1.54f\nunit=micron\n', xResolution: [0, 1], yResolution: [2, 1], resolutionUnit: 1 }, /ImageJ description \(XResolution 0\/1, YResolution 2\/1\) gives no usable pixel size/],
    [{ xResolution: [10, 0], yResolution: [10, 0], resolutionUnit: 3 }, /resolution tags .* gives no usable pixel size/],
  ];
  for (const [fields, message] of cases) {
    const { pixelSize, problems } = calibrationFromTiff(fields);
    assert.equal(pixelSize, undefined, JSON.stringify(fields));
    assert.equal(problems.length, 1);
    assert.match(problems[0], message);
  }
});

test('an unknown unit is named in the problem', () => {
  const furlong = calibrationFromTiff({ description: 'ImageJ=1.54f\nunit=furlong\n', xResolution: [1, 1], yResolution: [1, 1], resolutionUnit: 1 });
  assert.equal(furlong.pixelSize, undefined);
  assert.match(furlong.problems[0], /ImageJ description names the unit 'furlong', which unetflow does not know/);
  // A unit named like an Object property is unknown too, not a lookup of it.
  assert.match(calibrationFromTiff({ description: 'ImageJ=1.54f\nunit=constructor\n', xResolution: [1, 1], yResolution: [1, 1], resolutionUnit: 1 }).problems[0], /names the unit 'constructor'/);
  const ome_ = calibrationFromTiff({ description: ome('PhysicalSizeX="1" PhysicalSizeXUnit="pixel" PhysicalSizeY="1"') });
  assert.match(ome_.problems[0], /OME-XML names the unit 'pixel'/);
  assert.match(calibrationFromTiff({ xResolution: [1, 1], yResolution: [1, 1], resolutionUnit: 7 }).problems[0], /ResolutionUnit is 7: expected 1 \(none\), 2 \(inch\) or 3 \(centimetre\)/);
});

test('an unusable source gives way to the next one, with the problem kept', () => {
  const { pixelSize, problems } = calibrationFromTiff({ description: ome('PhysicalSizeX="0" PhysicalSizeY="0"'), xResolution: [12500, 1], yResolution: [12500, 1], resolutionUnit: 3 });
  assert.deepEqual(pixelSize, { y: 0.8, x: 0.8 });
  assert.equal(problems.length, 1);
});

test('sources that disagree are reported, and OME-XML wins over the resolution tags', () => {
  const { pixelSize, problems } = calibrationFromTiff({ description: ome('PhysicalSizeX="0.5" PhysicalSizeY="0.5"'), xResolution: [12500, 1], yResolution: [12500, 1], resolutionUnit: 3 });
  assert.deepEqual(pixelSize, { y: 0.5, x: 0.5 });
  assert.deepEqual(problems, ['its OME-XML gives y 0.5 µm, x 0.5 µm but its resolution tags y 0.8 µm, x 0.8 µm: using the OME-XML']);
  // Agreeing to within rounding of the rationals is not a contradiction.
  assert.deepEqual(calibrationFromTiff({ description: ome('PhysicalSizeX="0.65" PhysicalSizeY="0.65"'), xResolution: [15385, 1], yResolution: [15385, 1], resolutionUnit: 3 }).problems, []);
});

test('a PNG pHYs in pixels per metre gives micrometres per pixel, and an aspect ratio alone gives none', () => {
  assert.deepEqual(calibrationFromPhys({ x: 4_000_000, y: 2_000_000, unit: 1 }), { pixelSize: { y: 0.5, x: 0.25 }, problems: [] });
  // 8130081 pixels per metre is 0.12300000 µm to the nearest pixel per metre: the decimal comes back.
  assert.deepEqual(calibrationFromPhys({ x: 8130081, y: 8130081, unit: 1 }).pixelSize, { y: 0.123, x: 0.123 });
  assert.deepEqual(calibrationFromPhys({ x: 3, y: 2, unit: 0 }), { problems: [] });
  assert.match(calibrationFromPhys({ x: 0, y: 5000, unit: 1 }).problems[0], /pHYs chunk \(0 x 5000 pixels per metre\) gives no usable pixel size/);
});
