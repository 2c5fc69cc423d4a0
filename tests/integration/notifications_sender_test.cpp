// The notifications sender against the real PostgreSQL (a fresh database migrated with the
// service's own migrations) and an SMTP server in the test's process that counts connections:
// every message of a batch is sent once and recorded as sent once, with its attempt, over one
// connection per sending thread.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/migrations.hpp"
#include "common/pg.hpp"
#include "services/notifications/mailer.hpp"
#include "services/notifications/sender.hpp"
#include "services/notifications/store.hpp"
#include "tests/harness/fake_smtp.hpp"
#include "tests/harness/harness.hpp"

namespace ecd::notifications {
const std::vector<ecd::Migration>& Migrations();
}  // namespace ecd::notifications

namespace ecd::notifications {
namespace {

class SenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = test::NewDatabaseUrl("sender");
    PgPool::Options o;
    o.url = url_;
    o.size = 4;
    pool_ = std::make_unique<PgPool>(o);
    auto report = RunMigrations(*pool_, "notifications", Migrations());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    store_ = std::make_unique<Store>(*pool_);
  }

  // Queues `n` confirmations; their ids in order.
  std::vector<std::string> Queue(int n) {
    std::vector<NewMessage> messages;
    const std::string event = NewUuid();
    for (int i = 0; i < n; ++i) {
      NewMessage m;
      m.dedupe_key = "confirmed/" + NewUuid();
      m.event_id = event;
      m.kind = "confirmed";
      m.language = "fr";
      m.recipient = "p" + std::to_string(i) + "@justice.sn";
      m.recipient_name = "Awa Diop";
      m.subject = "Inscription confirmée";
      m.body = "Bonjour,\nvotre inscription est confirmée.\n";
      messages.push_back(m);
    }
    auto queued = store_->Queue(messages);
    EXPECT_TRUE(queued.ok()) << queued.status().ToString();
    std::vector<std::string> ids;
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    for (const auto& r : tx.exec("SELECT id::text FROM notifications.messages WHERE event_id = '" +
                                 event + "' ORDER BY recipient")) {
      ids.push_back(r[0].as<std::string>());
    }
    return ids;
  }

  int64_t Count(const std::string& statement) {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    return tx.exec(statement)[0][0].as<int64_t>();
  }

  // state, attempts, and the attempts recorded (all ok, numbered from 1) of each message.
  struct Row {
    int state = 0;
    int attempts = 0;
    int attempt_rows = 0;
    int ok_rows = 0;
  };
  std::map<std::string, Row> Rows() {
    std::map<std::string, Row> out;
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    for (const auto& r : tx.exec("SELECT m.id::text, m.state, m.attempts, count(a.attempt),"
                                 " count(a.attempt) FILTER (WHERE a.ok AND a.attempt = 1)"
                                 " FROM notifications.messages m LEFT JOIN notifications.attempts a"
                                 " ON a.message_id = m.id GROUP BY m.id, m.state, m.attempts")) {
      out[r[0].as<std::string>()] = {r[1].as<int>(), r[2].as<int>(), r[3].as<int>(),
                                     r[4].as<int>()};
    }
    return out;
  }

  std::string url_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<Store> store_;
};

TEST_F(SenderTest, EveryMessageOfEveryBatchIsSentAndRecordedOnce) {
  constexpr int kMessages = 45;  // batches of 10, the last one short
  const auto ids = Queue(kMessages);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kMessages));
  test::FakeSmtpServer smtp;
  SmtpConfig config;
  config.url = smtp.url();
  Mailer mailer(config);
  SenderOptions options;
  options.threads = 2;
  options.batch = 10;
  options.poll = std::chrono::milliseconds(20);
  Sender sender(*store_, mailer, options);
  sender.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         Count("SELECT count(*) FROM notifications.messages WHERE state = 2") < kMessages) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sender.Stop();

  auto rows = Rows();
  ASSERT_EQ(rows.size(), static_cast<size_t>(kMessages));
  for (const auto& id : ids) {
    const Row& r = rows[id];
    EXPECT_EQ(r.state, 2) << id;  // sent
    EXPECT_EQ(r.attempts, 1) << id;
    EXPECT_EQ(r.attempt_rows, 1) << id;
    EXPECT_EQ(r.ok_rows, 1) << id;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM notifications.messages WHERE state = 2 AND"
                  " (sent_time IS NULL OR last_error <> '' OR id IN"
                  " (SELECT message_id FROM notifications.queue))"),
            0);
  // Each mail reached the server once, under its message's Message-ID.
  std::map<std::string, int> seen;
  for (const auto& m : smtp.message_ids()) ++seen[m];
  ASSERT_EQ(seen.size(), static_cast<size_t>(kMessages));
  for (const auto& id : ids) EXPECT_EQ(seen["<" + id + "@events.ecd>"], 1) << id;
  // One connection per sending thread, kept for all its mails.
  EXPECT_LE(smtp.connections(), options.threads);
}

// Recording a batch again changes nothing, and a message cancelled meanwhile (an erasure) stays
// cancelled, without an attempt.
TEST_F(SenderTest, RecordingABatchAsSentIsIdempotentAndLeavesCancelledMessagesAlone) {
  const auto ids = Queue(5);
  auto claimed = store_->Claim(10, 10000, "test-sender");
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 5u);
  {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    tx.exec("UPDATE notifications.messages SET state = 4 WHERE id = '" + ids[4] + "'");
  }
  ASSERT_TRUE(store_->MarkSentMany(ids).ok());
  ASSERT_TRUE(store_->MarkSentMany(ids).ok());
  auto rows = Rows();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(rows[ids[i]].state, 2) << i;
    EXPECT_EQ(rows[ids[i]].attempts, 1) << i;
    EXPECT_EQ(rows[ids[i]].attempt_rows, 1) << i;
    EXPECT_EQ(rows[ids[i]].ok_rows, 1) << i;
  }
  EXPECT_EQ(rows[ids[4]].state, 4);
  EXPECT_EQ(rows[ids[4]].attempts, 0);
  EXPECT_EQ(rows[ids[4]].attempt_rows, 0);
  EXPECT_TRUE(store_->MarkSentMany({}).ok());
}

// A message waits in the send queue (a small row of its own, which claims change) from the time
// it is queued until it is sent, given up or cancelled; a failure that will be retried keeps it
// there, due later and held by nobody. Only the sender holding a message records its failure. A
// message inserted by a plain INSERT (a replica of the version before the queue) is queued too.
TEST_F(SenderTest, AMessageWaitsInTheQueueUntilSentGivenUpOrCancelled) {
  const auto ids = Queue(5);
  auto stats = store_->QueueStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->first, 5);
  auto mine = store_->Claim(10, 60000, "sender-1");
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->size(), 5u);
  auto none = store_->Claim(10, 60000, "sender-2");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << "a held message was claimed twice";

  // A temporary failure: queued again, due in a minute, held by nobody.
  ASSERT_TRUE(store_->MarkFailed(ids[0], "sender-1", "451 4.3.0 try later", 60000, false).ok());
  // Another sender cannot record a failure of a message it does not hold.
  ASSERT_TRUE(store_->MarkFailed(ids[1], "sender-2", "451 4.3.0 try later", 0, true).ok());
  // A permanent refusal: dead, out of the queue.
  ASSERT_TRUE(store_->MarkFailed(ids[1], "sender-1", "550 5.1.1 no such user", 0, true).ok());
  // Given back unsent: claimable again at once, by anyone.
  ASSERT_TRUE(store_->Release({ids[2]}, "sender-1").ok());
  auto again = store_->Claim(10, 60000, "sender-2");
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->front().id, ids[2]);
  ASSERT_TRUE(store_->MarkSentMany({ids[2], ids[3]}).ok());
  // Cancelled by whatever writes the message (an erasure, a replica of the version before the
  // queue): it leaves the queue with it.
  {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    tx.exec("UPDATE notifications.messages SET state = 4 WHERE id = '" + ids[4] + "'");
  }

  auto rows = Rows();
  EXPECT_EQ(rows[ids[0]].state, 1);
  EXPECT_EQ(rows[ids[0]].attempts, 1);
  EXPECT_EQ(rows[ids[1]].state, 3);
  EXPECT_EQ(rows[ids[1]].attempts, 1) << "the failure of a sender that did not hold it counted";
  EXPECT_EQ(rows[ids[2]].state, 2);
  EXPECT_EQ(rows[ids[3]].state, 2);
  EXPECT_EQ(rows[ids[4]].state, 4);
  // Only the message to retry still waits: due in about a minute, held by nobody.
  EXPECT_EQ(Count("SELECT count(*) FROM notifications.queue"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM notifications.queue WHERE message_id = '" + ids[0] +
                  "' AND claimed_until IS NULL AND next_attempt_time > now() + interval '50 s'"),
            1);
  stats = store_->QueueStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->first, 1);
  auto later = store_->Claim(10, 60000, "sender-2");
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty()) << "a message was claimed before its retry was due";

  const std::string plain = NewUuid();
  {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    tx.exec(
        "INSERT INTO notifications.messages (id, dedupe_key, event_id, kind, language,"
        " recipient, subject, body) VALUES ('" +
        plain + "', 'confirmed/" + plain + "', '" + plain +
        "', 'confirmed', 'es', 'lquispe@mpfn.gob.pe', 'Inscripción confirmada', 'Hola')");
  }
  auto queued = store_->Claim(10, 60000, "sender-2");
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ(queued->front().id, plain);
  EXPECT_EQ(queued->front().recipient, "lquispe@mpfn.gob.pe");
}

// The queue follows whatever writes the messages: a dead message made pending again (by hand)
// is queued again; a retry time set on the message alone (a replica of the version before) moves
// its queue row; a queue row left for a message no longer pending is dropped when claimed, not
// sent. Extending or giving back claims passes over a row another transaction holds instead of
// waiting for it (marking sent and erasing lock queue rows in other orders).
TEST_F(SenderTest, TheQueueFollowsTheMessagesWhoeverWritesThem) {
  const auto ids = Queue(3);
  auto exec = [&](const std::string& statement) {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    tx.exec(statement);
  };
  auto claimed = store_->Claim(10, 60000, "sender-1");
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  ASSERT_TRUE(store_->MarkFailed(ids[0], "sender-1", "550 5.7.1 refused", 0, true).ok());
  ASSERT_TRUE(store_->MarkSentMany({ids[1]}).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM notifications.queue"), 1);

  // Dead, then pending again by hand: queued, due now.
  exec("UPDATE notifications.messages SET state = 1, next_attempt_time = now() WHERE id = '" +
       ids[0] + "'");
  // The version before records a failure on the message only: the queue row follows.
  exec(
      "UPDATE notifications.messages SET next_attempt_time = now() + interval '1 hour'"
      " WHERE id = '" +
      ids[2] + "'");
  EXPECT_EQ(Count("SELECT count(*) FROM notifications.queue WHERE message_id = '" + ids[2] +
                  "' AND next_attempt_time > now() + interval '50 minutes'"),
            1);
  // A queue row for a message already sent, written past the triggers.
  exec("INSERT INTO notifications.queue (message_id) VALUES ('" + ids[1] + "')");
  EXPECT_EQ(Count("SELECT count(*) FROM notifications.queue"), 3);

  auto again = store_->Claim(10, 60000, "sender-2");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->size(), 1u) << "a message not due, or already sent, was claimed";
  EXPECT_EQ(again->front().id, ids[0]);
  EXPECT_EQ(Count("SELECT count(*) FROM notifications.queue WHERE message_id = '" + ids[1] + "'"),
            0);

  // Another transaction holds the claimed row: extending and giving back pass over it. (The
  // futures outlive the lock, so that a failure here ends the test instead of hanging it.)
  std::future<StatusOr<std::vector<std::string>>> extended;
  std::future<Status> released;
  pqxx::connection holder(url_);
  pqxx::work lock(holder);
  lock.exec("SELECT 1 FROM notifications.queue WHERE message_id = '" + ids[0] + "' FOR UPDATE");
  extended =
      std::async(std::launch::async, [&] { return store_->Extend({ids[0]}, "sender-2", 60000); });
  ASSERT_EQ(extended.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "extending a claim waited for a row lock";
  auto got = extended.get();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->empty());
  released = std::async(std::launch::async, [&] { return store_->Release({ids[0]}, "sender-2"); });
  ASSERT_EQ(released.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "giving a claim back waited for a row lock";
  EXPECT_TRUE(released.get().ok());
  lock.commit();
  auto mine = store_->Extend({ids[0]}, "sender-2", 60000);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(*mine, std::vector<std::string>{ids[0]});
}

}  // namespace
}  // namespace ecd::notifications
