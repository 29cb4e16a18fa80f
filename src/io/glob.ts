/** Minimal glob matching for source patterns: `*`, `?`, `**`, `[abc]`, `[0-9]` and `{a,b}`, on '/'-separated relative paths. */

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of folders, including none.
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    }
    else if (c === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += '(?:' + pattern.slice(i + 1, end).split(',').map(escape).join('|') + ')';
        i = end;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`, 'i');
}

function escape(s: string): string {
  return s.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}

/** Whether a string has glob characters, i.e. names a pattern rather than a path. */
export function isGlob(s: string): boolean {
  return /[*?{[]/.test(s);
}

export const IMAGE_PATTERN = '*.{png,jpg,jpeg,tif,tiff}';

/** Editors, copy tools and our own atomic writes use these names while a file is incomplete. */
export function isTemporaryName(name: string): boolean {
  return /^[.~]/.test(name) || /\.(tmp|part|partial|crdownload|download|swp)$/i.test(name) || name.endsWith('~');
}
