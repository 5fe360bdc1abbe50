/**
 * The listener a request came in on. Every shard serves the same routes on its HTTP and, with
 * HTTPS configured, its HTTPS listener; what the upstream is told about the request depends on
 * which one (forwarded `proto=https`, the Kafka target's `rig.scheme` and `rig.port`).
 */
export interface Ingress {
  readonly scheme: 'http' | 'https';
  /** The configured port (INBOUND_PORT or INBOUND_HTTPS_PORT), for `rig.port` when the Host header names none. */
  readonly port: number;
}
