import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeMediaPort, freeUdpPort } from './ports.js';
import { startDaemon, type Daemon } from './proc.js';
import { PT_TELEPHONE_EVENT } from './rtp.js';

/** SIPp scenarios for the caller (UAC) and the agent's PBX (UAS), written per run. */

/** One stretch of the caller's media: a pcap SIPp replays, and how long to let it play. */
export interface MediaStep {
  pcap: string;
  durationMs: number;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

const offerSdp = (direction = 'sendrecv'): string =>
  [
    'v=0',
    'o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]',
    's=-',
    'c=IN IP[media_ip_type] [media_ip]',
    't=0 0',
    `m=audio [media_port] RTP/AVP 0 ${PT_TELEPHONE_EVENT}`,
    'a=rtpmap:0 PCMU/8000',
    `a=rtpmap:${PT_TELEPHONE_EVENT} telephone-event/8000`,
    `a=fmtp:${PT_TELEPHONE_EVENT} 0-15`,
    'a=ptime:20',
    `a=${direction}`,
  ].join('\n');

/**
 * The caller: INVITE (with `headers`, e.g. X-Toneguard-Agent), ACK, then each media step in
 * turn, then BYE.
 */
export function callerScenario(options: { headers?: Record<string, string>; steps: MediaStep[] }): string {
  // One line per header: an empty line would end the header section early.
  const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\n`).join('');
  const media = options.steps
    .map((s) => `  <nop><action><exec play_pcap_audio="${xmlEscape(s.pcap)}"/></action></nop>\n  <pause milliseconds="${Math.ceil(s.durationMs)}"/>`)
    .join('\n');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="toneguard caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "caller" <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
${extra}Content-Type: application/sdp
Content-Length: [len]

${offerSdp()}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "caller" <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
${media}
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "caller" <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" crlf="true"/>
  <ResponseTimeRepartition value="10, 20, 50, 100, 500"/>
</scenario>
`;
}

/**
 * The agent's PBX: answers every INVITE with an SDP whose media goes to `sinkPort` on
 * 127.0.0.1 (the harness's media sink, standing in for the agent's phone), then waits for BYE.
 * `answerHeaders` go on the 200 OK (a PBX naming the agent in its answer).
 */
export function agentScenario(options: { sinkPort: number; answerHeaders?: Record<string, string> }): string {
  const extra = Object.entries(options.answerHeaders ?? {}).map(([k, v]) => `${k}: ${v}\n`).join('');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="toneguard agent PBX">
  <recv request="INVITE" crlf="true" rrs="true"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:agent@[local_ip]:[local_port]>
${extra}Content-Type: application/sdp
Content-Length: [len]

v=0
o=pbx 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio ${options.sinkPort} RTP/AVP 0 ${PT_TELEPHONE_EVENT}
a=rtpmap:0 PCMU/8000
a=rtpmap:${PT_TELEPHONE_EVENT} telephone-event/8000
a=fmtp:${PT_TELEPHONE_EVENT} 0-15
a=ptime:20
a=sendrecv
]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:agent@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
</scenario>
`;
}

export interface SippRun {
  readonly port: number;
  readonly daemon: Daemon;
}

/** The agent's PBX: a SIPp UAS on a free port that answers until stopped. */
export async function startAgentPbx(dir: string, scenario: string): Promise<SippRun> {
  const port = await freeUdpPort();
  const file = join(dir, 'agent.xml');
  writeFileSync(file, scenario);
  // Its own media ports are unused (the SDP sends the agent's media to the sink), but SIPp binds them.
  const mediaPort = await freeMediaPort();
  const daemon = startDaemon('sipp-agent', 'sipp', ['-sf', file, '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-cp', String(await freeUdpPort()), '-nostdin', '-trace_err', '-error_file', join(dir, 'sipp-agent-errors.log')], dir);
  return { port, daemon };
}

export interface CallerLoad {
  /** Calls in total, at most `concurrent` at once, started at `rate` per second. */
  calls: number;
  concurrent?: number;
  rate?: number;
}

/**
 * Runs the caller scenario against the proxy (`service` is the called user) and resolves with
 * SIPp's exit code: 0 when every call succeeded.
 */
export async function runCaller(dir: string, name: string, proxyPort: number, scenario: string, load: CallerLoad = { calls: 1 }): Promise<{ code: number | null; log: string }> {
  const [port, mediaPort] = [await freeUdpPort(), await freeMediaPort()];
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, scenario);
  const daemon = startDaemon(`sipp-${name}`, 'sipp', [
    `127.0.0.1:${proxyPort}`,
    '-sf', file,
    '-s', 'agent',
    '-i', '127.0.0.1',
    '-p', String(port),
    '-mp', String(mediaPort),
    // SIPp's remote-control socket (default 8888, on every address): one per instance.
    '-cp', String(await freeUdpPort()),
    '-m', String(load.calls),
    '-l', String(load.concurrent ?? load.calls),
    '-r', String(load.rate ?? 10),
    '-nostdin',
    '-timeout', '120s',
    '-timeout_error',
    '-trace_err', '-error_file', join(dir, `sipp-${name}-errors.log`),
  ], dir);
  const code = await daemon.exited;
  return { code, log: daemon.log() };
}
