// Everything anyevent offers, in one include.
#pragma once

#include <anyevent/async.hpp>
#include <anyevent/child.hpp>
#include <anyevent/condvar.hpp>
#include <anyevent/error.hpp>
#include <anyevent/fd.hpp>
#include <anyevent/function.hpp>
#include <anyevent/guard.hpp>
#include <anyevent/idle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/log.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/signal.hpp>
#include <anyevent/timer.hpp>
