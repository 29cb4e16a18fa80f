#!/usr/bin/env python3
"""Golden pixel sizes, read and written by tifffile (and PNGs read by Pillow): writes
pixel-size.json and the small TIFFs in pixel-size/ beside this script.

Run from the repository root:  /usr/bin/python3 test/golden/pixel-size.py
Needs numpy, tifffile (Debian bookworm's python3-tifffile 20230203 was used:
apt-get install python3-tifffile), Pillow (python3-pil 9.4) and node, which writes
unetflow's files through test/golden/pixel-size-cases.ts. Tests read only the JSON and
pixel-size/*.tif, so CI needs no Python.

Two directions, each independent of unetflow's reader:
- `written_by_unetflow`: for each file unetflow's writer makes, what tifffile reads from
  it: the raw ImageDescription and resolution tags, the physical pixel size tifffile's
  conventions give (OME-XML PhysicalSize, else ImageJ `unit` over 1 / resolution, else
  the resolution tags in their ResolutionUnit), the series shape and the pixels' sha256;
  for PNGs, the dots per inch Pillow reads from pHYs.
- `written_by_tifffile`: files tifffile.imwrite makes in the ways microscopy software
  calibrates a TIFF (ImageJ, OME in nm, resolution tags in cm and in inch; big-endian,
  BigTIFF), with the
  physical size tifffile reads back, for unetflow's reader to match.
"""
import hashlib
import json
import os
import subprocess
import tempfile

import numpy as np
import PIL
import tifffile
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
FIXTURES = os.path.join(HERE, 'pixel-size')
MICROMETRES = {'pm': 1e-6, 'Å': 1e-4, 'nm': 1e-3, 'µm': 1.0, 'um': 1.0, 'micron': 1.0, 'mm': 1e3, 'cm': 1e4, 'm': 1e6}


def physical_size(tif):
    """Micrometres per pixel as tifffile reports the file's calibration, or None."""
    page = tif.pages[0]
    if tif.is_ome:
        image = tifffile.xml2dict(tif.ome_metadata)['OME']['Image']
        pixels = (image[0] if isinstance(image, list) else image)['Pixels']
        if 'PhysicalSizeX' not in pixels:
            return None
        return {
            'y': float(pixels['PhysicalSizeY']) * MICROMETRES[pixels.get('PhysicalSizeYUnit', 'µm')],
            'x': float(pixels['PhysicalSizeX']) * MICROMETRES[pixels.get('PhysicalSizeXUnit', 'µm')],
        }
    x_res, y_res = page.resolution
    if tif.is_imagej:
        unit = tif.imagej_metadata.get('unit')
        if not unit or unit == 'pixel':
            return None
        return {'y': MICROMETRES[unit] / y_res, 'x': MICROMETRES[unit] / x_res}
    per_unit = {tifffile.RESUNIT.INCH: 25400.0, tifffile.RESUNIT.CENTIMETER: 1e4}.get(page.resolutionunit)
    if per_unit is None:
        return None
    return {'y': per_unit / y_res, 'x': per_unit / x_res}


def reading(path):
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        tags = page.tags
        data = tif.asarray()
        return {
            'description': tags['ImageDescription'].value if 'ImageDescription' in tags else None,
            'x_resolution': list(tags['XResolution'].value) if 'XResolution' in tags else None,
            'y_resolution': list(tags['YResolution'].value) if 'YResolution' in tags else None,
            'resolution_unit': int(tags['ResolutionUnit'].value) if 'ResolutionUnit' in tags else None,
            'is_imagej': bool(tif.is_imagej),
            'is_ome': bool(tif.is_ome),
            'physical_size': physical_size(tif),
            'shape': list(tif.series[0].shape),
            'axes': tif.series[0].axes,
            'pixels_sha256': hashlib.sha256(np.ascontiguousarray(data).astype(data.dtype.newbyteorder('<')).tobytes()).hexdigest(),
        }


def png_reading(path):
    with Image.open(path) as image:
        x_dpi, y_dpi = image.info['dpi']
        data = np.asarray(image)
        # Pillow opens 16-bit grey as 32-bit integers.
        data = data.astype('<u2') if image.mode.startswith('I') else data
        return {
            'dpi': [x_dpi, y_dpi],
            'physical_size': {'y': 25400.0 / y_dpi, 'x': 25400.0 / x_dpi},
            'shape': list(data.shape),
            'pixels_sha256': hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest(),
        }


def written_by_unetflow():
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(['node', '--import', 'tsx', 'test/golden/pixel-size-cases.ts', folder], cwd=ROOT, check=True)
        return {name: (png_reading if name.endswith('.png') else reading)(os.path.join(folder, name)) for name in sorted(os.listdir(folder))}


def written_by_tifffile():
    os.makedirs(FIXTURES, exist_ok=True)
    ramp = lambda shape, dtype: (np.arange(np.prod(shape)) * 37 % 251).astype(dtype).reshape(shape)
    files = {
        # Fiji's way: ImageJ description with unit, resolution in pixels per unit (tifffile takes (x, y)).
        'tifffile-imagej.tif': (ramp((4, 6), np.uint16), dict(imagej=True, resolution=(1 / 0.25, 1 / 0.5), metadata={'unit': 'um'})),
        'tifffile-imagej-stack.tif': (ramp((3, 5, 4), np.float32), dict(imagej=True, resolution=(1 / 0.65, 1 / 0.65), metadata={'unit': 'micron', 'spacing': 2.0, 'axes': 'ZYX'})),
        # OME-XML in nanometres.
        'tifffile-ome.ome.tif': (ramp((5, 7), np.uint8), dict(metadata={'axes': 'YX', 'PhysicalSizeX': 325, 'PhysicalSizeXUnit': 'nm', 'PhysicalSizeY': 400, 'PhysicalSizeYUnit': 'nm', 'UUID': 'urn:uuid:00000000-0000-0000-0000-000000000000'})),  # a fixed UUID keeps the file reproducible
        # Plain TIFF resolution tags, in centimetres and in inches.
        'tifffile-centimetre.tif': (ramp((4, 4), np.float32), dict(resolution=(1e4 / 0.8, 1e4 / 1.6), resolutionunit='CENTIMETER', metadata=None)),
        'tifffile-inch.tif': (ramp((3, 5), np.uint8), dict(resolution=(25400 / 2.0, 25400 / 2.0), resolutionunit='INCH', metadata=None)),
        # Big-endian ImageJ, and BigTIFF with OME-XML: the other byte order and directory layout.
        'tifffile-big-endian.tif': (ramp((4, 5), np.uint16), dict(imagej=True, byteorder='>', resolution=(1 / 0.2, 1 / 0.3), metadata={'unit': 'micron'})),
        'tifffile-bigtiff.ome.tif': (ramp((5, 4), np.uint16), dict(bigtiff=True, metadata={'axes': 'YX', 'PhysicalSizeX': 0.7, 'PhysicalSizeY': 0.9, 'UUID': 'urn:uuid:00000000-0000-0000-0000-000000000001'})),
    }
    out = {}
    for name, (data, options) in files.items():
        path = os.path.join(FIXTURES, name)
        tifffile.imwrite(path, data, **options)
        out[name] = reading(path)
    return out


def main():
    golden = {
        'tifffile': tifffile.__version__,
        'pillow': PIL.__version__,
        'numpy': np.__version__,
        'written_by_unetflow': written_by_unetflow(),
        'written_by_tifffile': written_by_tifffile(),
    }
    with open(os.path.join(HERE, 'pixel-size.json'), 'w', encoding='utf-8') as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
