// Number and duration formatting the way Go's fmt prints them, so that Cutover's events read
// byte-for-byte like Flagger's ("success rate 95.00% < 99%", "request duration 1.5s > 500ms").
// Pure: importable from workflow code.

/** Go's `%v` for a float64: shortest digits, exponent form when the decimal exponent is < -4 or >= 6. */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  // `%v` is `%g` with the shortest precision; strconv then switches to %e when the decimal exponent
  // is below -4 or at least 6 (so Go prints 1e6 as "1e+06").
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  // In [-4, 6) JavaScript prints the same shortest plain decimal as Go.
  return String(value);
}

/** Go's `%.2f`. */
export function goFixed2(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return value.toFixed(2);
}

/** Go's `time.Duration.String()` for a whole number of milliseconds: "250ms", "1.5s", "1m1s", "1h0m0s". */
export function goDurationFromMs(ms: number): string {
  const whole = Math.trunc(ms);
  if (whole === 0) return '0s';
  const sign = whole < 0 ? '-' : '';
  const abs = Math.abs(whole);
  if (abs < 1000) return `${sign}${abs}ms`;
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const millis = abs % 60_000;
  const seconds = Math.floor(millis / 1000);
  const fraction = String(millis % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  const secondsText = `${seconds}${fraction ? `.${fraction}` : ''}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${sign}${minutes}m${secondsText}`;
  return `${sign}${secondsText}`;
}
