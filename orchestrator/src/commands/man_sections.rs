//! The man page's sections clap cannot generate (roff): what the exit codes mean, every
//! environment variable orgtrail reads (its own, and the AWS SDK's it relies on), and its files.
//! Nothing here names a file that a `cargo install` leaves out.
pub const EXTRA: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Converged (or paused by pause_after, or the \-\-wave/\-\-accounts part done); any read\-only command that ran to its end.
.TP
\fB1\fR
Failures recorded in the state (the run stays open), failed access checks, plan steps in error, verify findings, a step that failed or refused outside a run (delegate, mfa\-delete), or another orgtrail holds or changed the state.
.TP
\fB2\fR
Bad input or environment: the config, a flag's value (nothing is written), an unknown profile or run id, a corrupt state, missing credentials, an endpoint that cannot be reached, AWS refusing a call.
.TP
\fB3\fR
Everything converged except a step only a person can take (MFA Delete with the log\-archive root user); the run is finished. In a script: \fBorgtrail apply || [ $? \-eq 3 ]\fR.
.TP
\fB130\fR
Interrupted (Ctrl\-C); the printed command resumes the run.
.SH ENVIRONMENT
.TP
\fBORGTRAIL_CONFIG\fR
The config, as \-\-config (default: orgtrail.toml).
.TP
\fBORGTRAIL_STATE_DIR\fR
The local state directory, as \-\-state\-dir.
.TP
\fBORGTRAIL_STATE\fR
The shared state in S3 (s3://BUCKET/PREFIX), as \-\-state.
.TP
\fBORGTRAIL_STATE_LEASE_SECONDS\fR
How long the S3 state lock's lease lasts before another orgtrail may take it over (a positive number of seconds).
.TP
\fBORGTRAIL_LOG\fR
The log filter on stderr (tracing EnvFilter syntax, e.g. \fBorgtrail=debug\fR); overrides \-v and \-vv. Credentials are never logged.
.TP
\fBAWS_PROFILE\fR
The shared\-config profile, as \-\-profile.
.TP
\fBAWS_ENDPOINT_URL\fR
Send every AWS call to this endpoint (an emulator), as \-\-endpoint\-url.
.TP
\fBAWS_REGION\fR, \fBAWS_DEFAULT_REGION\fR
The region of API calls when neither \-\-region nor the config's home_region says.
.TP
\fBAWS_ACCESS_KEY_ID\fR, \fBAWS_SECRET_ACCESS_KEY\fR, \fBAWS_SESSION_TOKEN\fR
Base credentials from the environment (the AWS SDK's credential chain; profiles, IAM Identity Center (SSO), web identity, container and instance credentials are the others).
.TP
\fBAWS_CONFIG_FILE\fR, \fBAWS_SHARED_CREDENTIALS_FILE\fR
Where the shared config and credentials files are (default: ~/.aws/config, ~/.aws/credentials).
.TP
\fBAWS_MAX_ATTEMPTS\fR, \fBAWS_RETRY_MODE\fR, \fBAWS_EC2_METADATA_DISABLED\fR
Read by the AWS SDK: attempts per call, retry mode, whether to ask instance metadata for credentials.
.TP
\fBCOLUMNS\fR
The table width (default: the terminal's; output that is not a terminal is not wrapped).
.TP
\fBXDG_CACHE_HOME\fR, \fBHOME\fR
Where the working copy of a shared state lives ($XDG_CACHE_HOME/orgtrail, else ~/.cache/orgtrail).
.TP
\fBUSER\fR, \fBHOSTNAME\fR
Who holds the state lock, as named to anyone the lock refuses.
.SH FILES
.TP
\fIorgtrail.toml\fR
The rollout config (\-\-config); \fBorgtrail init\fR writes a commented example.
.TP
\fIorgtrail.state/\fR
The local rollout state next to the config (CONFIG_STEM.state/): state.db (SQLite) and lock.json while a command holds it.
.TP
\fI$XDG_CACHE_HOME/orgtrail/\fR
Working copies of shared S3 states, one directory per state URL.
.TP
\fI~/.aws/config\fR, \fI~/.aws/credentials\fR
The AWS shared config and credentials files.
.SH "SEE ALSO"
\fBorgtrail\-COMMAND\fR(1) for each command (\fBorgtrail man \-\-dir DIR\fR writes them), \fBorgtrail COMMAND \-\-help\fR. The guides (quick start, configuration, operations runbook, verify and the report, validate-logs, detection, delegated administrator, removal, IAM, access matrix) are in the docs folder of orgtrail's source, which \fBcargo install\fR does not install.
"#;
