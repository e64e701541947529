/*
 * The embedded default configuration: a demo gateway on 127.0.0.1 with an
 * unprivileged port and local delivery into a maildir under the state
 * directory. It is loaded first on every start, and a configuration file
 * overrides the keys it sets, so this text also defines every default
 * value. It goes through the same loader and schema as any user file.
 */
#include "config/config.h"

const char config_default_yaml[] =
	"# mailwarden embedded default configuration\n"
	"# hostname: defaults to the machine's name\n"
	"state_dir: ./mailwarden-data\n"
	"user: mailwarden\n"
	"smtpd_user: mailwarden-smtpd\n"
	"smtpd_processes: 1\n"
	"shutdown_grace: 10s\n"
	"log:\n"
	"  target: stderr\n"
	"  format: kv\n"
	"  level: info\n"
	"listeners:\n"
	"  - name: mta\n"
	"    address: 127.0.0.1\n"
	"    port: 2525\n"
	"local_domains:\n"
	"  - example.test\n"
	"trusted_networks:\n"
	"  - 127.0.0.1/32\n"
	"  - ::1/128\n"
	"routes:\n"
	"  example.test: maildir:maildir/example.test\n"
	"limits:\n"
	"  line_length: 2048\n"
	"  message_size: 25M\n"
	"  recipients: 1000\n"
	"  connections: 1000\n"
	"  connections_per_ip: 20\n"
	"  command_timeout: 5m\n"
	"  data_timeout: 10m\n"
	"  errors: 10\n"
	"dns:\n"
	"  timeout: 2s\n"
	"queue:\n"
	"  retry_min: 1m\n"
	"  retry_max: 1h\n"
	"  lifetime: 5d\n"
	"  delivery_concurrency: 20\n"
	"  connect_timeout: 30s\n"
	"  reply_timeout: 5m\n"
	"  mx_port: 25\n"
	"  delay_warning: 4h\n"
	"  per_destination: 10\n"
	"  connection_reuse: true\n";
