import { describe, expect, it } from 'vitest';
import { ApiError, ApiUnreachableError } from './api-client.js';
import { CommandFailed, goError, goList, logLine } from './fleet-text.js';
import { SteppingClock } from './testing/captured-output.js';

describe('goError', () => {
  it("words an API error as fleet's Google API client does", () => {
    expect(goError(new ApiError(400, 'unit x is a template'))).toBe('googleapi: Error 400: unit x is a template');
    expect(goError(new ApiError(502, 'fleet API answered HTTP 502: bad gateway', 'bad gateway'))).toBe('googleapi: got HTTP response code 502 with body: bad gateway');
  });

  it("words a request without an answer as Go's HTTP client does, on one line", () => {
    const request = { method: 'GET', url: 'http://domain-sock/fleet/v1/units?alt=json' };
    const known = new ApiUnreachableError('unix:///x.sock', 'connect ENOENT /x.sock', { request, goReason: 'dial unix /x.sock: connect: no such file or directory' });
    expect(goError(known)).toBe('Get "http://domain-sock/fleet/v1/units?alt=json": dial unix /x.sock: connect: no such file or directory');
    const other = new ApiUnreachableError('https://h', 'handshake\n  failed', { request: { method: 'PUT', url: 'https://h/fleet/v1/units/a.service?alt=json' } });
    expect(goError(other)).toBe('Put "https://h/fleet/v1/units/a.service?alt=json": handshake failed');
  });

  it('keeps the message of anything else', () => {
    expect(goError(new Error('unable to find unit x'))).toBe('unable to find unit x');
  });
});

describe('the rest of fleet\'s wording', () => {
  it("prints a string slice as Go's %v does", () => {
    expect(goList([])).toBe('[]');
    expect(goList(['a.service', 'b.service'])).toBe('[a.service b.service]');
  });

  it("writes a log line as fleet's logger does, in local time", () => {
    const at = new Date(2018, 3, 12, 9, 5, 7).getTime();
    const clock = new SteppingClock();
    void clock.sleep(at);
    expect(logLine(clock, 'INFO', 'restart.go:100', 'Unit(a.service) was restarted.')).toBe('2018/04/12 09:05:07 INFO restart.go:100: Unit(a.service) was restarted.\n');
  });

  it('keeps the code of the error a command failure stands for', () => {
    expect(new CommandFailed(['x'], 1, { cause: new ApiError(503, 'down') }).code).toBe('API_ERROR');
    expect(new CommandFailed(['Unit x not found']).code).toBe('INVALID_REQUEST');
  });
});
