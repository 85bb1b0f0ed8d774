#include "daemon/hub.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "daemon/alarm_acks.hpp"
#include "daemon/query_answers.hpp"
#include "daemon/sha256.hpp"
#include "daemon/verdict.hpp"
#include "net/error_reply.hpp"
#include "net/reply_parts.hpp"
#include "reports/answer.hpp"

namespace kiln::daemon {

namespace {

// A reply as the session sends it: in parts when it would not fit one frame.
void send_query_reply(Session& session, std::uint64_t request_id, kiln::v1::QueryReply reply) {
  session.send_reply(request_id, net::split_reply(std::move(reply)));
}

kiln::v1::QueryReply json_reply(std::string body) {
  kiln::v1::QueryReply reply;
  reply.set_body(std::move(body));
  reply.set_content_type(reports::kJsonContent);
  return reply;
}

// A request answered with JSON text: the answer, or its error (if the client is still there).
void send_answer(const std::weak_ptr<Session>& weak, std::uint64_t request_id, Result<std::string> answer) {
  auto session = weak.lock();
  if (!session) return;
  if (!answer) {
    session->send(net::error_reply(request_id, answer.error()));
    return;
  }
  send_query_reply(*session, request_id, json_reply(std::move(answer).value()));
}

// Answers `request_id` on the io thread with what the query pool produced.
void post_answer(const boost::asio::any_io_executor& executor, std::weak_ptr<Session> weak, std::uint64_t request_id,
                 Result<kiln::v1::QueryReply> answer) {
  boost::asio::post(executor, [weak = std::move(weak), request_id, answer = std::move(answer)]() mutable {
    auto session = weak.lock();
    if (!session) return;
    session->end_query();
    if (!answer) {
      session->send(net::error_reply(request_id, answer.error()));
    } else {
      send_query_reply(*session, request_id, std::move(answer).value());
    }
  });
}

}  // namespace

Hub::Hub(boost::asio::any_io_executor executor, CredentialBook credentials, std::string db_path, IngestWriter& writer,
         const plan::PatternRegistry& registry, const metrics::MetricCatalog& catalog, RunQueueOptions queue,
         std::size_t ingest_queue_bytes, lifecycle::LifecyclePolicy lifecycle_policy, SchedulerOptions schedules)
    : executor_(executor),
      credentials_(std::move(credentials)),
      db_path_(std::move(db_path)),
      writer_(writer),
      audit_(executor, writer),
      ingest_budget_(ingest_queue_bytes),
      runs_(executor, writer, agents_, registry, catalog, std::move(queue)),
      lifecycle_(executor, queries_.get_executor(), writer, db_path_, std::move(lifecycle_policy),
                 [this](const kiln::v1::SubmitRun& request, LifecycleKeeper::SubmitReply reply) {
                   runs_.submit(request, [this, reply = std::move(reply)](kiln::v1::SubmitRunReply answer) {
                     if (answer.run_id() != 0) {
                       live_.on_run_submitted(answer.run_id());
                       audit_.record(AuditEvent{"run_submitted", kLifecycleActor, "", answer.run_id(),
                                                nlohmann::json{{"retest", true}}.dump()});
                     }
                     reply(std::move(answer));
                   });
                 }),
      live_(
          executor, [this](std::uint64_t run_id) { return runs_.progress(run_id); },
          [this](std::uint64_t run_id, std::function<void(LiveFeed::RunFacts)> done) {
            load_run_facts(run_id, std::move(done));
          }),
      scheduler_(
          executor, writer, agents_, registry,
          [this](const kiln::v1::SubmitRun& request, const std::string& actor, const store::ScheduleFireRow& fire,
                 Scheduler::SubmitReply reply) { submit_scheduled(request, actor, fire, std::move(reply)); },
          std::move(schedules)) {
  scheduler_.set_audit([this](AuditEvent event) { audit_.record(std::move(event)); });
  runs_.set_audit([this](AuditEvent event) { audit_.record(std::move(event)); });
  runs_.set_on_run_recorded([this](std::uint64_t run_id) { lifecycle_.on_run_recorded(run_id); });
}

Hub::~Hub() { stop(); }

void Hub::stop() {
  checks_.join();  // every batch checked so far goes to the writer, which drains after this
  queries_.join();
}

std::string Hub::on_hello(Session& session, const kiln::v1::Hello& hello) {
  std::string actor;
  std::string refusal = check_hello(session, hello, actor);
  const nlohmann::json who = {{"role", hello.role() == kiln::v1::ROLE_AGENT ? "agent" : "client"},
                              {"identity", hello.identity().substr(0, 64)}};
  if (!refusal.empty()) {
    nlohmann::json detail = who;
    detail["reason"] = refusal;
    audit_.record(AuditEvent{"refused", actor, session.peer(), 0, detail.dump()});
  } else {
    audit_.record(AuditEvent{"connect", actor, session.peer(), 0, who.dump()});
  }
  return refusal;
}

void Hub::refuse(Session& session, const std::string& why) {
  audit(session, "refused", {{"reason", why}});
  session.close(why);
}

void Hub::audit(const Session& session, std::string kind, nlohmann::json detail, std::uint64_t run_id) {
  audit_.record(AuditEvent{std::move(kind), session.credential_name(), session.peer(), run_id, detail.dump()});
}

std::string Hub::check_hello(Session& session, const kiln::v1::Hello& hello, std::string& actor) {
  if (hello.protocol_version() != wire::kProtocolVersion) {
    return "unsupported protocol version " + std::to_string(hello.protocol_version());
  }
  const Credential* credential = credentials_.find(hello.credential());
  if (credential == nullptr) return "unknown credential";
  actor = credential->name;
  if (hello.role() != kiln::v1::ROLE_AGENT && hello.role() != kiln::v1::ROLE_CLIENT) return "unknown role";
  if (hello.role() == kiln::v1::ROLE_AGENT) {
    if (!credential->is_agent()) {
      return fmt::format("credential '{}' is a client's ({}), not an agent's", credential->name,
                         to_string(credential->role));
    }
    if (hello.identity().empty()) return "an agent must name its rack";
    // Refused before anything is read, let alone written: a rack's credential speaks for that rack only.
    if (hello.identity() != credential->rack) {
      return fmt::format("credential '{}' speaks for rack {}, not {}", credential->name, credential->rack,
                         hello.identity());
    }
  } else if (credential->is_agent()) {
    return fmt::format("credential '{}' is rack {}'s agent's, not a client's", credential->name, credential->rack);
  }
  session.set_credential(credential->name, credential->role);
  return {};
}

bool Hub::permitted(Session& session, std::uint64_t request_id, ClientRole needed, const char* what) {
  if (allows(session.client_role(), needed)) return true;
  spdlog::warn("{} ({}, credential '{}' as {}): may not {}", session.peer(), session.identity(),
               session.credential_name(), to_string(session.client_role()), what);
  audit(session, "refused", {{"reason", fmt::format("a {} may not {}", to_string(session.client_role()), what)}});
  session.send(net::error_reply(
      request_id, make_error(ErrorCode::permission_denied, "credential '{}' is a {}: it may not {} ({} or admin may)",
                             session.credential_name(), to_string(session.client_role()), what, to_string(needed))));
  return false;
}

void Hub::on_message(Session& session, kiln::v1::Envelope envelope) {
  if (session.role() == kiln::v1::ROLE_AGENT) {
    on_agent_message(session, envelope);
  } else {
    on_client_message(session, envelope);
  }
}

void Hub::on_closed(Session& session, const std::string& reason) {
  if (!session.authenticated()) {
    // A refused Hello is recorded where it was refused; this is the rest
    // (no Hello in time, something else first, a frame over the cap).
    if (!reason.starts_with("refused"))
      audit_.record(AuditEvent{"refused", "", session.peer(), 0, nlohmann::json{{"reason", reason}}.dump()});
    return;
  }
  if (session.role() != kiln::v1::ROLE_AGENT) return;
  if (auto rack = agents_.remove_session(session)) {
    audit(session, "rack_lost", {{"rack", *rack}, {"reason", reason}});
    spdlog::warn("agent of rack {} disconnected: {}", *rack, reason);
    runs_.on_rack_lost(*rack);
    live_.on_rack_lost(*rack);
  }
}

void Hub::remember_epochs(const std::vector<store::RackEpochRow>& rows) {
  for (const auto& row : rows) epochs_.remember(row.rack, row.epoch, row.epoch_key_sha256);
}

void Hub::on_register(Session& session, kiln::v1::RegisterRack reg) {
  if (reg.rack() != session.identity()) {
    refuse(session, "registered rack '" + reg.rack() + "' but said hello as '" + session.identity() + "'");
    return;
  }
  if (const ConnectedRack* current = agents_.find(reg.rack());
      current != nullptr && current->identity == &session && current->registration.epoch() != reg.epoch()) {
    refuse(session, fmt::format("registered epoch {} on the connection that registered epoch {}", reg.epoch(),
                                current->registration.epoch()));
    return;
  }
  // The key proves which agent process owns the epoch; only its hash is kept.
  const std::string key_sha256 = sha256_hex(reg.epoch_key());
  const std::size_t key_chars = reg.epoch_key().size();
  reg.clear_epoch_key();
  auto claim = epochs_.claim(reg.rack(), reg.epoch(), key_sha256, key_chars);
  if (!claim) {
    spdlog::warn("refused the registration of rack {} epoch {} from {}: {}", reg.rack(), reg.epoch(), session.peer(),
                 claim.error().message);
    audit(session, "refused", {{"reason", claim.error().message}, {"rack", reg.rack()}, {"epoch", reg.epoch()}});
    kiln::v1::Envelope refused;
    refused.mutable_refused()->set_reason(claim.error().message);
    session.send(std::move(refused));
    session.close_after_flush("registration refused: " + claim.error().message);
    return;
  }
  spdlog::info("agent of rack {} registered {} chips (epoch {}{}, {})", reg.rack(), reg.chips_size(), reg.epoch(),
               *claim == EpochOwners::Claim::new_epoch ? ", new" : ", again", session.peer());
  audit(session, "rack_registered",
        {{"rack", reg.rack()},
         {"epoch", reg.epoch()},
         {"chips", reg.chips_size()},
         {"new_epoch", *claim == EpochOwners::Claim::new_epoch}});
  writer_.submit([reg, key_sha256](store::Writer& w) { return w.upsert_rack(reg, unix_ms_now(), key_sha256); },
                 [rack = reg.rack()](const Status& s) {
                   if (!s) spdlog::error("could not record rack {}: {}", rack, s.error().message);
                 });
  if (auto replaced = agents_.register_rack(session.shared_from_this(), reg)) {
    replaced->close("replaced by a new connection of the same rack");
  }
  live_.on_rack_registered(reg);
  runs_.on_rack_registered(reg);
  scheduler_.on_rack_registered();
}

void Hub::on_agent_message(Session& session, kiln::v1::Envelope& envelope) {
  if (envelope.has_register_rack()) {
    on_register(session, std::move(*envelope.mutable_register_rack()));
    return;
  }
  if (envelope.has_agent_batch()) {
    auto batch = std::make_shared<kiln::v1::AgentBatch>(std::move(*envelope.mutable_agent_batch()));
    if (batch->rack() != session.identity()) {
      refuse(session, "batch for rack '" + batch->rack() + "' on the connection of '" + session.identity() + "'");
      return;
    }
    // An epoch's batches come only from the connection that registered it:
    // another cannot claim its sequence numbers (and so drop its data).
    const ConnectedRack* current = agents_.find(batch->rack());
    if (current == nullptr || current->identity != &session) {
      refuse(session, "a batch from a connection that is not rack " + batch->rack() + "'s registered agent");
      return;
    }
    // An earlier epoch's batches (a restarted agent resending its spool) are
    // taken when that epoch was registered with the same key as this
    // connection's: the spool's key, so they are this agent's (DESIGN §8).
    if (current->registration.epoch() != batch->epoch() &&
        !(batch->epoch() < current->registration.epoch() &&
          epochs_.same_owner(batch->rack(), batch->epoch(), current->registration.epoch()))) {
      refuse(session, fmt::format("a batch of epoch {} on the connection that registered epoch {}", batch->epoch(),
                                  current->registration.epoch()));
      return;
    }
    const std::size_t bytes = IngestBudget::resident_bytes(*batch);
    ingest_budget_.take(session.shared_from_this(), bytes);
    ingest(std::move(batch), session.shared_from_this(),
           AuditEvent{"refused", session.credential_name(), session.peer(), 0, ""}, bytes);
    return;
  }
  spdlog::warn("agent {}: unexpected message {}; ignored", session.identity(), envelope.body_case());
}

namespace {
// A commit that failed for want of space (or another passing reason: I/O,
// a busy database) is
// tried again after this, doubling to the cap, while the agent stays
// connected: ingest pauses, the agent keeps its data (its window of
// unacknowledged batches is full, so it sends no more), nothing is lost.
constexpr std::chrono::milliseconds kFirstRetry{50};
constexpr std::chrono::milliseconds kMaxRetry{2000};
constexpr int kLogEveryAttempts = 10;
}  // namespace

void Hub::ingest(std::shared_ptr<const kiln::v1::AgentBatch> batch, std::weak_ptr<Session> weak, AuditEvent refusal,
                 std::size_t bytes) {
  // The chunks are checked and summarised on checks_, off the writer's
  // thread (the decoding is most of a batch's work, and the writer is
  // kilnd's one thread for the database); its one thread keeps the
  // batches in the order they came.
  boost::asio::post(checks_, [this, batch, weak, refusal = std::move(refusal), bytes]() mutable {
    auto checked = std::make_shared<const Result<store::CheckedChunks>>(store::check_chunks(*batch));
    store_checked(std::move(batch), std::move(checked), std::move(weak), std::move(refusal), 0, bytes);
  });
}

void Hub::store_checked(std::shared_ptr<const kiln::v1::AgentBatch> batch,
                        std::shared_ptr<const Result<store::CheckedChunks>> checked, std::weak_ptr<Session> weak,
                        AuditEvent refusal, int attempt, std::size_t bytes) {
  auto fresh = std::make_shared<bool>(false);
  auto chunks = std::make_shared<std::vector<store::ChunkDigest>>();
  writer_.submit(
      [batch, checked, fresh, chunks](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*fresh, w.ingest_batch(*batch, chunks.get(), checked.get()));
        return {};
      },
      [this, batch, checked, fresh, chunks, weak, refusal, attempt, bytes](const Status& status) mutable {
        const bool refused = !status && (status.error().code == ErrorCode::invalid_argument ||
                                         status.error().code == ErrorCode::permission_denied);
        const bool passing = !status && (status.error().code == ErrorCode::io ||          // SQLITE_FULL, IOERR
                                         status.error().code == ErrorCode::unavailable);  // BUSY, LOCKED
        if (!status && !refused && !passing) {
          // Not acknowledged: the agent sends it again after its next reconnect.
          spdlog::error("rack {}: batch {}/{} not stored, will be resent: {}", batch->rack(), batch->epoch(),
                        batch->seq(), status.error().message);
          ingest_budget_.give_back(bytes);
          return;
        }
        if (passing) {
          if (weak.expired()) {
            // The agent is gone; it resends the batch when it is back.
            spdlog::warn("rack {}: batch {}/{} not stored and its connection closed: {}", batch->rack(), batch->epoch(),
                         batch->seq(), status.error().message);
            ingest_budget_.give_back(bytes);
            return;
          }
          if (attempt % kLogEveryAttempts == 0) {
            spdlog::error("rack {}: batch {}/{} not stored (attempt {}), ingest paused and retrying: {}", batch->rack(),
                          batch->epoch(), batch->seq(), attempt + 1, status.error().message);
          }
          const auto delay = std::min(kMaxRetry, kFirstRetry * (1 << std::min(attempt, 6)));
          auto timer = std::make_shared<boost::asio::steady_timer>(executor_, delay);
          timer->async_wait([this, timer, batch, checked, weak, refusal, attempt,
                             bytes](const boost::system::error_code& ec) mutable {
            if (!ec) {
              store_checked(batch, checked, weak, std::move(refusal), attempt + 1, bytes);
            } else {
              ingest_budget_.give_back(bytes);
            }
          });
          return;
        }
        if (status && attempt > 0) {
          spdlog::info("rack {}: batch {}/{} stored after {} attempts: ingest resumed", batch->rack(), batch->epoch(),
                       batch->seq(), attempt + 1);
        }
        ingest_budget_.give_back(bytes);
        kiln::v1::Envelope ack;
        ack.mutable_batch_ack()->set_epoch(batch->epoch());
        ack.mutable_batch_ack()->set_seq(batch->seq());
        if (refused) {
          // A batch that can never be stored (it names a run that does not
          // exist, carries NaN times) or speaks for a chip that is not this
          // rack's: acknowledged so the agent does not resend it forever,
          // with the typed reason, and logged loudly with what it held.
          spdlog::error("rack {}: batch {}/{} refused ({} samples, {} results): {}", batch->rack(), batch->epoch(),
                        batch->seq(), batch->samples_size(), batch->results_size(), status.error().message);
          *ack.mutable_batch_ack()->mutable_refused() = net::error_reply(0, status.error()).error_reply();
          refusal.detail_json = nlohmann::json{
              {"reason", status.error().message},
              {"rack", batch->rack()},
              {"epoch", batch->epoch()},
              {"seq", batch->seq()}}.dump();
          audit_.record(std::move(refusal));
          *fresh = false;
        }
        if (auto session = weak.lock()) session->send(std::move(ack));
        if (*fresh) {
          runs_.on_batch_committed(batch->rack(), *batch, *chunks);
          live_.on_batch(*batch, *chunks);
        }
      });
}

void Hub::on_client_message(Session& session, kiln::v1::Envelope& envelope) {
  const std::uint64_t request_id = envelope.request_id();
  std::weak_ptr<Session> weak = session.shared_from_this();
  if (envelope.has_submit_run()) {
    if (!permitted(session, request_id, ClientRole::run_operator, "submit runs")) return;
    AuditEvent submitted{
        "run_submitted", session.credential_name(), session.peer(), 0,
        nlohmann::json{{"plan_path", envelope.submit_run().plan_path()}, {"identity", session.identity()}}.dump()};
    runs_.submit(
        envelope.submit_run(),
        [this, weak, request_id, submitted](kiln::v1::SubmitRunReply reply) mutable {
          if (reply.run_id() != 0) {
            live_.on_run_submitted(reply.run_id());
            submitted.run_id = reply.run_id();
            audit_.record(std::move(submitted));
          }
          auto session = weak.lock();
          if (!session) return;
          kiln::v1::Envelope out;
          out.set_request_id(request_id);
          *out.mutable_submit_run_reply() = std::move(reply);
          session->send(std::move(out));
        },
        session.credential_name());
    return;
  }
  if (envelope.has_rack_hold()) {
    if (!permitted(session, request_id, ClientRole::run_operator, "reserve racks or put them in maintenance")) return;
    runs_.hold_rack(envelope.rack_hold(), session.credential_name(), session.peer(),
                    [weak, request_id](Result<nlohmann::ordered_json> hold) {
                      auto session = weak.lock();
                      if (!session) return;
                      if (!hold) {
                        session->send(net::error_reply(request_id, hold.error()));
                        return;
                      }
                      send_query_reply(*session, request_id, json_reply(hold->dump(2)));
                    });
    return;
  }
  if (envelope.has_schedule()) {
    on_schedule_request(session, request_id, envelope.schedule());
    return;
  }
  if (envelope.has_abort_run()) {
    if (!permitted(session, request_id, ClientRole::run_operator, "abort runs")) return;
    const auto& request = envelope.abort_run();
    if (auto status = runs_.abort(request.run_id(), request.reason()); !status) {
      session.send(net::error_reply(request_id, status.error()));
      return;
    }
    audit(session, "run_aborted", {{"reason", request.reason()}}, request.run_id());
    send_query_reply(session, request_id,
                     json_reply(nlohmann::json{{"run", request.run_id()}, {"status", "aborted"}}.dump()));
    return;
  }
  if (envelope.has_set_chip_state()) {
    if (!permitted(session, request_id, ClientRole::run_operator, "set a chip's lifecycle state")) return;
    const auto request = envelope.set_chip_state();
    const std::string actor = session.credential_name();
    lifecycle_.set_state(request, actor, [this, weak, request_id, request, actor](Result<std::string> answer) {
      if (answer) {
        audit_.record(AuditEvent{"chip_state_set", actor, "", 0,
                                 nlohmann::json{{"serial", request.serial()},
                                                {"state", request.state()},
                                                {"reason", request.reason()},
                                                {"hand_back", request.hand_back()}}
                                     .dump()});
      }
      send_answer(weak, request_id, std::move(answer));
    });
    return;
  }
  if (envelope.has_ack_alarm()) {
    if (!permitted(session, request_id, ClientRole::run_operator, "acknowledge alarms")) return;
    acknowledge_alarms(
        AlarmAckContext{live_, writer_, [this](AuditEvent event) { audit_.record(std::move(event)); }},
        envelope.ack_alarm(), session.credential_name(), session.peer(), unix_ms_now(),
        [weak, request_id](Result<std::string> answer) { send_answer(weak, request_id, std::move(answer)); });
    return;
  }
  if (envelope.has_query()) {
    answer_query(session, request_id, envelope.query());
    return;
  }
  if (envelope.has_get_plan()) {
    const std::uint64_t run_id = envelope.get_plan().run_id();
    boost::asio::post(queries_, [this, weak, request_id, run_id] {
      post_answer(executor_, weak, request_id, plan_from_store(db_path_, run_id));
    });
    return;
  }
  if (envelope.has_subscribe()) {
    live_.subscribe(session.shared_from_this(), envelope.subscribe().max_hz());
    return;
  }
  session.send(net::error_reply(request_id, make_error(ErrorCode::invalid_argument, "unexpected request")));
}

void Hub::answer_query(Session& session, std::uint64_t request_id, const kiln::v1::Query& query) {
  using Kind = kiln::v1::Query;
  if (query.kind() == Kind::EVENTS && !permitted(session, request_id, ClientRole::admin, "read the audit trail"))
    return;
  if (query.kind() == Kind::SCHEDULES || query.kind() == Kind::SCHEDULE) {
    answer_schedule_query(session, request_id, query);
    return;
  }
  if (query.kind() == Kind::RACKS) {
    if (query.answer() == Kind::ANSWER_TYPED) {
      session.send(
          net::error_reply(request_id, make_error(ErrorCode::invalid_argument, "query RACKS has no typed answer")));
      return;
    }
    // Connected racks with what holds each; "holds" lists every held rack (a
    // run's lease, a reservation, maintenance), connected or not.
    std::map<std::string, nlohmann::ordered_json> holds;
    for (auto& hold : runs_.holds_json()) holds[hold["rack"].get<std::string>()] = hold;
    nlohmann::ordered_json racks = nlohmann::ordered_json::array();
    for (const auto& name : agents_.racks()) {
      const auto* rack = agents_.find(name);
      nlohmann::ordered_json entry{{"rack", name},
                                   {"lab", rack->registration.lab()},
                                   {"backend", rack->registration.backend()},
                                   {"chips", rack->registration.chips_size()},
                                   {"connected", true}};
      if (auto held = holds.find(name); held != holds.end()) entry["hold"] = held->second;
      racks.push_back(std::move(entry));
    }

    send_query_reply(session, request_id,
                     json_reply(nlohmann::ordered_json{{"racks", racks}, {"holds", runs_.holds_json()}}.dump(2)));
    return;
  }
  // Live progress is read here on the io thread, the rest from the database on the pool.
  std::optional<RunProgress> live;
  if (query.kind() == Kind::RUN) live = runs_.progress(query.run_id());
  std::map<std::uint64_t, std::string> waiting;
  if (query.kind() == Kind::RUNS) waiting = runs_.waiting_reasons();
  if (!session.begin_query()) {
    session.send(net::error_reply(request_id, make_error(ErrorCode::unavailable,
                                                         "{} queries are already being answered on this connection: "
                                                         "read their answers first",
                                                         Session::kMaxQueriesInFlight)));
    return;
  }
  std::weak_ptr<Session> weak = session.shared_from_this();
  boost::asio::post(queries_, [this, weak, request_id, query, live, waiting] {
    post_answer(executor_, weak, request_id, answer_from_store(db_path_, query, live, waiting));
  });
}

void Hub::load_run_facts(std::uint64_t run_id, std::function<void(LiveFeed::RunFacts)> done) {
  boost::asio::post(queries_, [this, run_id, done = std::move(done)] {
    LiveFeed::RunFacts facts;
    auto& verdicts = facts.verdicts;
    auto reader = store::Reader::open(db_path_);
    if (!reader) {
      spdlog::warn("live feed: cannot read run {}: {}", run_id, reader.error().message);
      return;
    }
    auto run = (*reader)->run(run_id);
    const bool decided = run && run->status != "queued" && run->status != "running";
    if (decided) {
      if (auto chips = (*reader)->run_chips(run_id)) {
        for (const auto& c : *chips) verdicts[c.serial] = c.verdict;
      }
    }
    if (auto steps = (*reader)->chip_steps(run_id)) {
      // Before the run's own verdicts are written: the worst judged step so far.
      for (const auto& cs : *steps) {
        const auto v = parse_verdict(cs.verdict);
        if (!v) continue;
        auto& so_far = verdicts[cs.serial];
        const auto current = parse_verdict(so_far);
        if (decided && current) continue;
        so_far = to_string(current ? worst(*current, *v) : *v);
      }
    }
    if (auto steps = (*reader)->steps(run_id)) {
      for (const auto& s : *steps) facts.step_names[s.step_index] = s.name;
    }
    boost::asio::post(executor_, [done, facts = std::move(facts)] { done(facts); });
  });
}

}  // namespace kiln::daemon
