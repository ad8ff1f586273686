// The typed queries of ae::dns on top of the driver: each one is a request() whose answer is
// narrowed to the records that answer the question (following CNAMEs) and shaped as
// AnyEvent::DNS does (MX by preference, SRV by RFC 2782, TXT strings joined).
#include "dns_impl.hpp"

#include <anyevent/error.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <utility>

namespace ae::dns {

using detail::dns_response;
using detail::dns_select;

namespace {

std::error_code no_data() { return std::make_error_code(std::errc::no_message_available); }

template <class T, class Cb, class Extract>
detail::dns_done typed(Cb cb, rr_type type, Extract extract) {
  return [cb = std::move(cb), type, extract](std::error_code ec, dns_response&& r) mutable {
    std::vector<T> out;
    if (!ec) {
      for (const record* rec : dns_select(r, type)) extract(*rec, out);
      if (out.empty()) ec = no_data();
    }
    cb(ec, std::move(out));
  };
}

void take_string(const record& rec, std::vector<std::string>& out) {
  if (const auto* s = std::get_if<std::string>(&rec.data)) out.push_back(*s);
}

detail::dns_resolver& checked(const std::shared_ptr<detail::dns_resolver>& impl) {
  if (!impl)
    throw ae::error(std::make_error_code(std::errc::invalid_argument),
                    "ae::dns::resolver: used after being moved from");
  return *impl;
}

std::string srv_name(std::string_view service, std::string_view proto, std::string_view domain) {
  std::string n;
  if (service.empty() || service.front() != '_') n += '_';
  n += service;
  n += '.';
  if (proto.empty() || proto.front() != '_') n += '_';
  n += proto;
  n += '.';
  n += domain;
  return n;
}

}  // namespace

resolver::resolver(loop& l) : resolver(system_options(), l) {}

resolver::resolver(options o, loop& l)
    : impl_(std::make_shared<detail::dns_resolver>(std::move(o), l)) {}

resolver::~resolver() {
  if (impl_) impl_->shutdown();
}

resolver::resolver(resolver&&) noexcept = default;

resolver& resolver::operator=(resolver&& o) noexcept {
  if (this != &o) {
    if (impl_) impl_->shutdown();
    impl_ = std::move(o.impl_);
  }
  return *this;
}

std::size_t resolver::in_flight() const noexcept { return impl_ ? impl_->in_flight() : 0; }
std::size_t resolver::queued() const noexcept { return impl_ ? impl_->queued() : 0; }
const options& resolver::config() const noexcept {
  static const options none;
  return impl_ ? impl_->config() : none;
}

guard resolver::a(std::string_view name, addresses_cb cb) {
  return checked(impl_).submit(name, rr_type::a, true,
                               typed<std::string>(std::move(cb), rr_type::a, take_string));
}

guard resolver::aaaa(std::string_view name, addresses_cb cb) {
  return checked(impl_).submit(name, rr_type::aaaa, true,
                               typed<std::string>(std::move(cb), rr_type::aaaa, take_string));
}

guard resolver::ns(std::string_view name, names_cb cb) {
  return checked(impl_).submit(name, rr_type::ns, true,
                               typed<std::string>(std::move(cb), rr_type::ns, take_string));
}

guard resolver::ptr(std::string_view name, names_cb cb) {
  return checked(impl_).submit(name, rr_type::ptr, true,
                               typed<std::string>(std::move(cb), rr_type::ptr, take_string));
}

guard resolver::cname(std::string_view name, names_cb cb) {
  return checked(impl_).submit(name, rr_type::cname, true,
                               typed<std::string>(std::move(cb), rr_type::cname, take_string));
}

guard resolver::reverse_lookup(std::string_view ip, names_cb cb) {
  std::string rev = detail::dns_reverse_name(ip);
  // An unparsable address becomes a query name that fails the name check (EINVAL), so the
  // error arrives the usual way: from the loop, after we return.
  if (rev.empty()) rev = "\\";
  return checked(impl_).submit(rev, rr_type::ptr, false,
                               typed<std::string>(std::move(cb), rr_type::ptr, take_string));
}

guard resolver::mx(std::string_view name, mx_cb cb) {
  auto sorted = [cb = std::move(cb)](std::error_code ec, std::vector<mx_record> v) mutable {
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& x, const auto& y) { return x.preference < y.preference; });
    cb(ec, std::move(v));
  };
  return checked(impl_).submit(
      name, rr_type::mx, true,
      typed<mx_record>(std::move(sorted), rr_type::mx, [](const record& rec, auto& out) {
        if (const auto* m = std::get_if<mx_record>(&rec.data)) out.push_back(*m);
      }));
}

guard resolver::txt(std::string_view name, strings_cb cb) {
  return checked(impl_).submit(
      name, rr_type::txt, true,
      typed<std::string>(std::move(cb), rr_type::txt, [](const record& rec, auto& out) {
        if (const auto* t = std::get_if<txt_record>(&rec.data)) {
          std::string joined;
          for (const auto& s : t->strings) joined += s;
          out.push_back(std::move(joined));
        }
      }));
}

guard resolver::srv(std::string_view service, std::string_view proto, std::string_view domain,
                    srv_cb cb) {
  auto ordered = [cb = std::move(cb)](std::error_code ec, std::vector<srv_record> v) mutable {
    detail::dns_srv_order(v);
    cb(ec, std::move(v));
  };
  return checked(impl_).submit(
      srv_name(service, proto, domain), rr_type::srv, true,
      typed<srv_record>(std::move(ordered), rr_type::srv, [](const record& rec, auto& out) {
        if (const auto* s = std::get_if<srv_record>(&rec.data)) out.push_back(*s);
      }));
}

guard resolver::request(std::string_view name, rr_type type, records_cb cb) {
  return checked(impl_).submit(
      name, type, true, [cb = std::move(cb)](std::error_code ec, dns_response&& r) mutable {
        if (!ec && r.answers.empty()) ec = no_data();
        cb(ec, ec ? std::vector<record>{} : std::move(r.answers));
      });
}

guard resolver::host(std::string_view name, int family, host_cb cb) {
  // Two queries in parallel; the state is shared by both callbacks and the guard, and holds
  // their guards so that cancelling the pair cancels both.
  struct state {
    host_cb cb;
    host_addresses result;
    std::error_code ec4, ec6;
    int pending = 0;
    guard g4, g6;
    void settle() {
      if (--pending > 0 || !cb) return;
      std::error_code ec;
      if (result.ipv4.empty() && result.ipv6.empty()) {
        // Prefer an error that says more than "nothing there" (a timeout, a refusal).
        ec = ec4 && !not_found(ec4) ? ec4 : ec6 && !not_found(ec6) ? ec6 : ec4 ? ec4 : ec6;
        if (!ec) ec = no_data();
      }
      auto f = std::move(cb);
      f(ec, std::move(result));
    }
  };
  auto& r = checked(impl_);
  auto s = std::make_shared<state>();
  s->cb = std::move(cb);
  const bool v4 = family != AF_INET6, v6 = family != AF_INET;
  s->pending = (v4 ? 1 : 0) + (v6 ? 1 : 0);
  if (v4)
    s->g4 = r.submit(name, rr_type::a, true,
                     typed<std::string>(
                         [s](std::error_code ec, std::vector<std::string> v) {
                           s->ec4 = ec;
                           s->result.ipv4 = std::move(v);
                           s->g4.release();
                           s->settle();
                         },
                         rr_type::a, take_string));
  if (v6)
    s->g6 = r.submit(name, rr_type::aaaa, true,
                     typed<std::string>(
                         [s](std::error_code ec, std::vector<std::string> v) {
                           s->ec6 = ec;
                           s->result.ipv6 = std::move(v);
                           s->g6.release();
                           s->settle();
                         },
                         rr_type::aaaa, take_string));
  return guard([w = std::weak_ptr<state>(s)] {
    if (auto st = w.lock()) {
      auto drop = std::move(st->cb);
      st->g4.reset();
      st->g6.reset();
    }
  });
}

resolver& default_resolver(loop& l) {
  // One per loop, kept by the loop itself and destroyed with it (cancelling what is still
  // outstanding). The handle it runs on does not own the loop: owning it would keep the loop
  // alive forever.
  static const char key = 0;
  return *static_cast<resolver*>(detail::loop_attachment(l.impl(), &key, [&l] {
    loop unowned(std::shared_ptr<detail::loop_impl>(std::shared_ptr<void>(), l.impl()));
    return std::static_pointer_cast<void>(std::make_shared<resolver>(unowned));
  }));
}

guard a(std::string_view name, addresses_cb cb, loop& l) {
  return default_resolver(l).a(name, std::move(cb));
}
guard aaaa(std::string_view name, addresses_cb cb, loop& l) {
  return default_resolver(l).aaaa(name, std::move(cb));
}
guard mx(std::string_view name, mx_cb cb, loop& l) {
  return default_resolver(l).mx(name, std::move(cb));
}
guard ns(std::string_view name, names_cb cb, loop& l) {
  return default_resolver(l).ns(name, std::move(cb));
}
guard txt(std::string_view name, strings_cb cb, loop& l) {
  return default_resolver(l).txt(name, std::move(cb));
}
guard srv(std::string_view service, std::string_view proto, std::string_view domain, srv_cb cb,
          loop& l) {
  return default_resolver(l).srv(service, proto, domain, std::move(cb));
}
guard ptr(std::string_view name, names_cb cb, loop& l) {
  return default_resolver(l).ptr(name, std::move(cb));
}
guard cname(std::string_view name, names_cb cb, loop& l) {
  return default_resolver(l).cname(name, std::move(cb));
}
guard reverse_lookup(std::string_view ip, names_cb cb, loop& l) {
  return default_resolver(l).reverse_lookup(ip, std::move(cb));
}
guard request(std::string_view name, rr_type type, records_cb cb, loop& l) {
  return default_resolver(l).request(name, type, std::move(cb));
}
guard host(std::string_view name, int family, host_cb cb, loop& l) {
  return default_resolver(l).host(name, family, std::move(cb));
}

}  // namespace ae::dns
