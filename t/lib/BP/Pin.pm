package BP::Pin;

# Loaded before any Mojo module by every test helper (use BP::Pin first).
#
# Mojolicious changes what it does with optional modules: Mojo::JSON
# encodes with Cpanel::JSON::XS when that is installed (which writes U+FFFF
# where the pure-Perl encoder writes U+FFFD), and Mojo::IOLoop runs on EV
# when that is installed. The suite pins both to what tools/dev installs,
# whatever else a machine has; tools/dev test exports the same variables.
# BP::Harness->new refuses to run when Mojolicious escaped the pin (a test
# that loaded a Mojo module before any BP module).

use strict;
use warnings;

BEGIN {
    $ENV{MOJO_NO_JSON_XS} = 1;
    $ENV{MOJO_REACTOR}    = 'Mojo::Reactor::Poll';
}

1;
