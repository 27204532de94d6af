#!/usr/bin/env bash
# Writes a clickhouse-server configuration for a server on loopback whose data, logs and users
# file all live under DIR, from the Debian package's configuration:
#   ops/clickhouse-config.sh DIR HTTP_PORT TCP_PORT INTERSERVER_PORT
# ops/setup.sh uses it for the platform's server; fault tests use it for a private one.
set -euo pipefail
dir=$1 http=$2 tcp=$3 interserver=$4
mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
sed -e "0,/<path>/s#<path>.*</path>#<path>$dir/data/</path>#" \
    -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$dir/tmp/</tmp_path>#" \
    -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$dir/user_files/</user_files_path>#" \
    -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$dir/format_schemas/</format_schema_path>#" \
    -e "s#<log>.*</log>#<log>$dir/log/server.log</log>#" \
    -e "s#<errorlog>.*</errorlog>#<errorlog>$dir/log/error.log</errorlog>#" \
    -e "s#<http_port>.*</http_port>#<http_port>$http</http_port>#" \
    -e "s#<tcp_port>.*</tcp_port>#<tcp_port>$tcp</tcp_port>#" \
    -e "s#<interserver_http_port>.*</interserver_http_port>#<interserver_http_port>$interserver</interserver_http_port>#" \
    -e "s#<users_config>.*</users_config>#<users_config>$dir/users.xml</users_config>#" \
    -e "s#<listen_host>.*</listen_host>##g" \
    -e "s#</yandex>#<listen_host>127.0.0.1</listen_host></yandex>#" \
    /etc/clickhouse-server/config.xml >"$dir/config.xml"
cp /etc/clickhouse-server/users.xml "$dir/users.xml"
