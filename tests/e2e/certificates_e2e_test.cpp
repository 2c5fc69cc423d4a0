// End to end: catalogue, registration and certificates binaries with a real PostgreSQL and
// Redis: eligibility at the threshold, signatures that verify (and tampered or foreign ones that
// do not), revocation, key rotation, the PDF read back with pdftotext and its QR code with zbarimg.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <thread>

#include "common/crypto.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "ecd/certificates/v1/certificates.grpc.pb.h"
#include "ecd/registration/v1/registration.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/certificates/payload.hpp"
#include "services/certificates/signing.hpp"
#include "tests/harness/grpc_client.hpp"
#include "tests/harness/harness.hpp"

namespace ecd::test {
namespace {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;
namespace cv1 = ::ecd::certificates::v1;
using google::protobuf::util::TimeUtil;

std::string WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

class CertificatesE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir());
    old_key_ = new std::string(certificates::Keyring::GeneratePrivateKeyPem());
    WriteFile(*dir_ + "/old.pem", *old_key_);
    redis_ = new RedisServer();
    db_ = new std::string(NewDatabaseUrl("cert"));
    catalogue_ = new ServiceProcess(ECD_CATALOGUE_BIN, {{"ECD_PG_URL", *db_}});
    registration_ = new ServiceProcess(
        ECD_REGISTRATION_BIN, {{"ECD_PG_URL", *db_},
                               {"ECD_REDIS_ADDRESS", "127.0.0.1:" + std::to_string(redis_->port())},
                               {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
                               {"ECD_CATALOGUE_CACHE_MS", "0"},
                               {"ECD_NOTIFICATIONS_ADDRESS", "off"},
                               {"ECD_ERASURE_INTERVAL_MS", "200"},
                               {"ECD_SERVICE_TOKEN", TestTokens().service},
                               {"ECD_CANCEL_TOKEN_SECRET", "test-cancel-token-secret"}});
    certificates_ = StartCertificates(*dir_ + "/old.pem", "");
    for (auto* p : {catalogue_, registration_, certificates_}) {
      ASSERT_TRUE(p->WaitHealth("SERVING", std::chrono::seconds(30))) << p->process().Log();
    }
  }
  static void TearDownTestSuite() {
    delete certificates_;
    delete registration_;
    delete catalogue_;
    delete redis_;
  }
  static ServiceProcess* StartCertificates(const std::string& key_file,
                                           const std::string& verify_files) {
    return new ServiceProcess(ECD_CERTIFICATES_BIN,
                              {{"ECD_PG_URL", *db_},
                               {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
                               {"ECD_REGISTRATION_ADDRESS", registration_->address()},
                               {"ECD_CATALOGUE_CACHE_MS", "0"},
                               {"ECD_SERVICE_TOKEN", TestTokens().service},
                               {"ECD_SIGNING_KEY_FILE", key_file},
                               {"ECD_NOTIFICATIONS_ADDRESS", "off"},
                               {"ECD_ERASURE_INTERVAL_MS", "200"},
                               {"ECD_VERIFY_KEY_FILES", verify_files}});
  }

  template <class Stub>
  static std::unique_ptr<Stub> StubOf(ServiceProcess* p) {
    return std::make_unique<Stub>(
        grpc::CreateChannel(p->address(), grpc::InsecureChannelCredentials()));
  }
  cat::CatalogueService::Stub& catalogue() {
    if (!cat_) cat_ = StubOf<cat::CatalogueService::Stub>(catalogue_);
    return *cat_;
  }
  reg::RegistrationService::Stub& registrations() {
    if (!reg_) reg_ = StubOf<reg::RegistrationService::Stub>(registration_);
    return *reg_;
  }
  cv1::CertificateService::Stub& certificates() {
    if (!cert_) cert_ = StubOf<cv1::CertificateService::Stub>(certificates_);
    return *cert_;
  }

  // A published event: 100 minutes, threshold 75 %, so 75 minutes are needed.
  std::string CreateEvent() {
    cat::CreateEventRequest req;
    auto* e = req.mutable_event();
    e->set_title("Webinaire avec les pays de l'Afrique (français)");
    e->set_region(cat::REGION_AFRICA);
    e->set_language_code("fr");
    *e->mutable_start_time() = In(std::chrono::hours(48));
    *e->mutable_end_time() = In(std::chrono::hours(48) + std::chrono::minutes(105));
    e->set_duration_minutes(100);
    e->add_invited_countries("SN");
    e->add_invited_countries("NG");
    cat::CreateEventResponse created;
    EXPECT_TRUE(catalogue().CreateEvent(Ctx(TestTokens().admin).get(), req, &created).ok());
    cat::PublishEventRequest pub;
    pub.set_name(created.event().name());
    cat::PublishEventResponse published;
    EXPECT_TRUE(catalogue().PublishEvent(Ctx(TestTokens().admin).get(), pub, &published).ok());
    return created.event().name();
  }
  void Complete(const std::string& event) {
    cat::CompleteEventRequest req;
    req.set_name(event);
    cat::CompleteEventResponse resp;
    ASSERT_TRUE(catalogue().CompleteEvent(Ctx(TestTokens().admin).get(), req, &resp).ok());
  }
  std::string Register(const std::string& event, const std::string& given,
                       const std::string& family, const std::string& email,
                       const std::string& language) {
    reg::RegisterRequest req;
    req.set_event(event);
    req.set_request_id("c-" + NewUuid());
    auto* p = req.mutable_participant();
    p->set_given_name(given);
    p->set_family_name(family);
    p->set_email(email);
    p->set_country_code("SN");
    p->set_affiliation(reg::AFFILIATION_PROSECUTION_SERVICE);
    p->set_preferred_language(language);
    p->set_time_zone("Africa/Dakar");
    p->set_privacy_consent(true);
    reg::RegisterResponse resp;
    auto st = registrations().Register(Ctx(TestTokens().frontend).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    // The participant verifies their address with the mailed code, and keeps their key.
    reg::VerifyRegistrationRequest verify;
    verify.set_name(resp.registration().name());
    verify.set_code(MailedSecret(*db_, verify.name(), "verify_email"));
    reg::VerifyRegistrationResponse verified;
    st = registrations().VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified);
    EXPECT_TRUE(st.ok()) << st.error_message();
    keys_[resp.registration().name()] = resp.participant_key();
    return resp.registration().name();
  }
  // The participant key of a registration this test made.
  std::string KeyOf(const std::string& registration) { return keys_[registration]; }
  // The webinar took place on 2020-07-09, 08:00-09:45 UTC (100 minutes stated).
  void Happened(const std::string& event) {
    auto st = MoveSlot(catalogue(), TestTokens().admin, event, "2020-07-09T08:00:00Z", 105);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  // Zoom rows giving each email `minutes` from 08:00, once the webinar took place.
  void Attendance(const std::string& event, const std::vector<std::pair<std::string, int>>& rows) {
    Happened(event);
    std::string csv = "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)\n";
    for (const auto& [email, minutes] : rows) {
      char leave[32];
      std::snprintf(leave, sizeof leave, "2020-07-09 %02d:%02d:00", 8 + minutes / 60, minutes % 60);
      csv += "P," + email + ",2020-07-09 08:00:00," + leave + "," + std::to_string(minutes) + "\n";
    }
    reg::ImportAttendanceRequest req;
    req.set_event(event);
    req.set_report_csv(csv);
    reg::ImportAttendanceResponse resp;
    auto st = registrations().ImportAttendance(Ctx(TestTokens().admin).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.malformed_rows_size(), 0);
  }
  grpc::Status Request(const std::string& registration, cv1::Certificate* out) {
    cv1::RequestCertificateRequest req;
    req.set_registration(registration);
    req.set_participant_key(KeyOf(registration));
    cv1::RequestCertificateResponse resp;
    auto st = certificates().RequestCertificate(Ctx(TestTokens().frontend).get(), req, &resp);
    *out = resp.certificate();
    return st;
  }
  cv1::VerifyCertificateResponse Verify(const cv1::VerifyCertificateRequest& req) {
    cv1::VerifyCertificateResponse resp;
    auto st = certificates().VerifyCertificate(Ctx(TestTokens().integration).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  static std::string* dir_;
  static std::string* old_key_;
  static std::string* db_;
  static RedisServer* redis_;
  static ServiceProcess *catalogue_, *registration_, *certificates_;
  std::unique_ptr<cat::CatalogueService::Stub> cat_;
  std::unique_ptr<reg::RegistrationService::Stub> reg_;
  std::unique_ptr<cv1::CertificateService::Stub> cert_;
  std::map<std::string, std::string> keys_;
};
std::string* CertificatesE2E::dir_ = nullptr;
std::string* CertificatesE2E::old_key_ = nullptr;
std::string* CertificatesE2E::db_ = nullptr;
RedisServer* CertificatesE2E::redis_ = nullptr;
ServiceProcess* CertificatesE2E::catalogue_ = nullptr;
ServiceProcess* CertificatesE2E::registration_ = nullptr;
ServiceProcess* CertificatesE2E::certificates_ = nullptr;

TEST_F(CertificatesE2E, EligibilityAtTheThresholdAndOnlyOnceCompleted) {
  const std::string event = CreateEvent();
  const std::string under = Register(event, "Awa", "Diop", "under@justice.sn", "fr");
  const std::string exact = Register(event, "Moussa", "Ba", "exact@justice.sn", "fr");
  Attendance(event, {{"under@justice.sn", 74}, {"exact@justice.sn", 75}});
  cv1::Certificate cert;
  auto st = Request(exact, &cert);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "not completed yet";
  EXPECT_EQ(InfoOf(st).reason(), "NOT_ELIGIBLE");
  EXPECT_EQ(InfoOf(st).metadata().at("event_status"), "EVENT_STATUS_PUBLISHED");
  Complete(event);
  st = Request(under, &cert);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  auto info = InfoOf(st);
  EXPECT_EQ(info.reason(), "NOT_ELIGIBLE");
  EXPECT_EQ(info.metadata().at("minutes_attended"), "74");
  EXPECT_EQ(info.metadata().at("minutes_required"), "75");
  st = Request(exact, &cert);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cert.state(), cv1::CERTIFICATE_STATE_VALID);
  EXPECT_EQ(cert.holder_name(), "Moussa Ba");
  EXPECT_EQ(cert.facts().participant_name(), "") << "the payload holds no name";
  EXPECT_EQ(cert.facts().duration_minutes(), 100);
  cv1::Certificate again;
  ASSERT_TRUE(Request(exact, &again).ok());
  EXPECT_EQ(again.name(), cert.name()) << "asking again returns the same certificate";
}

// The organiser's path with a real Zoom webinar attendee report, exported in Paris time: the
// 75-minute participant gets a certificate, the 74-minute one is told both figures.
TEST_F(CertificatesE2E, WebinarAttendeeReportToCertificates) {
  const std::string event = CreateEvent();
  const std::string awa = Register(event, "Awa", "Diop", "awa.diop@justice.gouv.sn", "fr");
  const std::string moussa = Register(event, "Moussa", "Ba", "moussa.ba@interieur.gouv.sn", "fr");
  const std::string aminata =
      Register(event, "Aminata", "Touré", "aminata.toure@mae.gouv.ml", "fr");
  ASSERT_TRUE(MoveSlot(catalogue(), TestTokens().admin, event, "2020-07-09T08:00:00Z", 100).ok());
  std::ifstream in(std::string(ECD_ZOOM_FIXTURES) + "/webinar_attendees_2025_paris.csv",
                   std::ios::binary);
  std::ostringstream csv;
  csv << in.rdbuf();
  ASSERT_FALSE(csv.str().empty());
  reg::ImportAttendanceRequest import;
  import.set_event(event);
  import.set_report_csv(csv.str());
  import.set_time_zone("Europe/Paris");
  reg::ImportAttendanceResponse imported;
  auto st = registrations().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(imported.format(), reg::REPORT_FORMAT_ZOOM_WEBINAR_ATTENDEES);
  EXPECT_EQ(imported.time_zone(), "Europe/Paris");
  EXPECT_EQ(imported.time_format(), "Mon D, YYYY HH:mm:ss");
  EXPECT_EQ(imported.rows(), 14);
  EXPECT_EQ(imported.skipped_rows(), 3);
  EXPECT_EQ(imported.malformed_count(), 2);
  EXPECT_EQ(imported.not_attended_rows(), 1);
  EXPECT_EQ(imported.matched_rows(), 1 + 3 + 1);  // Aminata's "No", Awa's three, Moussa's one
  std::map<std::string, int> minutes;
  for (const auto& a : imported.attendance()) minutes[a.email()] = a.attended_minutes();
  EXPECT_EQ(minutes, (std::map<std::string, int>{{"aminata.toure@mae.gouv.ml", 0},
                                                 {"awa.diop@justice.gouv.sn", 75},
                                                 {"moussa.ba@interieur.gouv.sn", 74}}));
  Complete(event);
  cv1::Certificate cert;
  st = Request(awa, &cert);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cert.state(), cv1::CERTIFICATE_STATE_VALID);
  st = Request(moussa, &cert);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "NOT_ELIGIBLE");
  EXPECT_EQ(InfoOf(st).metadata().at("minutes_attended"), "74");
  EXPECT_EQ(InfoOf(st).metadata().at("minutes_required"), "75");
  st = Request(aminata, &cert);
  EXPECT_EQ(InfoOf(st).metadata().at("minutes_attended"), "0");
}

TEST_F(CertificatesE2E, ConcurrentRequestsGiveOneCertificate) {
  const std::string event = CreateEvent();
  const std::string r = Register(event, "Ngozi", "Okonjo-Iweala", "ngozi@justice.ng", "en");
  Attendance(event, {{"ngozi@justice.ng", 100}});
  Complete(event);
  const int n = 20;
  std::vector<cv1::RequestCertificateResponse> out(n);
  std::vector<grpc::Status> statuses(n);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(n);
  cv1::RequestCertificateRequest req;
  req.set_registration(r);
  req.set_participant_key(KeyOf(r));
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  for (int i = 0; i < n; ++i) {
    contexts[i] = Ctx(TestTokens().frontend);
    certificates().async()->RequestCertificate(contexts[i].get(), &req, &out[i],
                                               [&, i](grpc::Status s) {
                                                 std::lock_guard<std::mutex> lock(mu);
                                                 statuses[i] = s;
                                                 ++done;
                                                 cv.notify_all();
                                               });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == n; });
  std::set<std::string> names;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    names.insert(out[i].certificate().name());
  }
  EXPECT_EQ(names.size(), 1u);
  pqxx::connection conn(*db_);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec_params("SELECT count(*) FROM certificates.certificates WHERE"
                           " registration_id = $1",
                           r.substr(r.find('/') + 1))[0][0]
                .as<int>(),
            1);
}

TEST_F(CertificatesE2E, SignaturesVerifyTamperingAndForeignKeysDoNotRevokedShowsRevoked) {
  const std::string event = CreateEvent();
  const std::string r = Register(event, "Zoë", "Ñúñez-Çelik", "zoe@justice.sn", "fr");
  Attendance(event, {{"zoe@justice.sn", 90}});
  Complete(event);
  cv1::Certificate cert;
  ASSERT_TRUE(Request(r, &cert).ok());

  cv1::VerifyCertificateRequest by_serial;
  by_serial.set_serial(cert.facts().serial());
  auto v = Verify(by_serial);
  EXPECT_EQ(v.result(), cv1::VERIFICATION_RESULT_VALID);
  EXPECT_EQ(v.facts().version(), 2);
  EXPECT_EQ(v.facts().participant_name(), "") << "the payload holds no name";
  EXPECT_EQ(v.facts().name_commitment(), cert.facts().name_commitment());
  EXPECT_EQ(v.name_check(), cv1::NAME_CHECK_UNSPECIFIED);
  EXPECT_EQ(cert.holder_name(), "Zoë Ñúñez-Çelik");
  // (Whole names: the payload is binary, and two letters turn up in random bytes now and then.)
  EXPECT_EQ(cert.payload().find("Zoë"), std::string::npos);
  EXPECT_EQ(cert.payload().find("Ñúñez-Çelik"), std::string::npos);
  // The holder's name and salt match the commitment; any other name or salt does not.
  by_serial.set_holder_name(cert.holder_name());
  by_serial.set_name_salt(cert.name_salt());
  EXPECT_EQ(Verify(by_serial).name_check(), cv1::NAME_CHECK_MATCH);
  for (auto [name, salt] :
       {std::pair{std::string("Zoe Ñúñez-Çelik"), cert.name_salt()},
        std::pair{cert.holder_name() + " ", cert.name_salt()},
        // Another salt: its first character changed (to one it is not).
        std::pair{cert.holder_name(),
                  std::string(cert.name_salt()[0] == 'A' ? "B" : "A") + cert.name_salt().substr(1)},
        std::pair{cert.holder_name(), std::string("")}}) {
    by_serial.set_holder_name(name);
    by_serial.set_name_salt(salt);
    EXPECT_EQ(Verify(by_serial).name_check(), cv1::NAME_CHECK_MISMATCH) << name << " " << salt;
  }
  by_serial.clear_holder_name();
  by_serial.clear_name_salt();
  cv1::VerifyCertificateRequest by_code;
  by_code.set_verification_code(cert.facts().verification_code());
  EXPECT_EQ(Verify(by_code).result(), cv1::VERIFICATION_RESULT_VALID);
  cv1::VerifyCertificateRequest signed_req;
  signed_req.mutable_signed_()->set_payload(cert.payload());
  signed_req.mutable_signed_()->set_signature(cert.signature());
  EXPECT_EQ(Verify(signed_req).result(), cv1::VERIFICATION_RESULT_VALID);

  // One byte changed anywhere in the payload: invalid.
  for (size_t i : {size_t{2}, cert.payload().size() / 2, cert.payload().size() - 2}) {
    cv1::VerifyCertificateRequest tampered = signed_req;
    std::string p = cert.payload();
    p[i] = p[i] == 'x' ? 'y' : 'x';
    tampered.mutable_signed_()->set_payload(p);
    EXPECT_EQ(Verify(tampered).result(), cv1::VERIFICATION_RESULT_INVALID_SIGNATURE) << i;
  }
  // One character changed anywhere in the signature: invalid.
  for (size_t i : {size_t{0}, cert.signature().size() / 2, cert.signature().size() - 2}) {
    cv1::VerifyCertificateRequest tampered = signed_req;
    std::string sig = cert.signature();
    sig[i] = sig[i] == 'A' ? 'B' : 'A';
    tampered.mutable_signed_()->set_signature(sig);
    EXPECT_EQ(Verify(tampered).result(), cv1::VERIFICATION_RESULT_INVALID_SIGNATURE) << i;
  }
  // The same facts signed by a key the service does not know: invalid.
  auto foreign = certificates::Keyring::FromPem(certificates::Keyring::GeneratePrivateKeyPem(), {});
  ASSERT_TRUE(foreign.ok());
  auto facts = certificates::ParsePayload(cert.payload());
  ASSERT_TRUE(facts.ok());
  facts->key_id = foreign->signing_key_id();
  const std::string forged = certificates::CanonicalPayload(*facts);
  cv1::VerifyCertificateRequest foreign_req;
  foreign_req.mutable_signed_()->set_payload(forged);
  foreign_req.mutable_signed_()->set_signature(Base64UrlEncode(foreign->Sign(forged)));
  EXPECT_EQ(Verify(foreign_req).result(), cv1::VERIFICATION_RESULT_INVALID_SIGNATURE);
  cv1::VerifyCertificateRequest unknown;
  unknown.set_serial("ECD-2020-0709-NOPE-NOPE");
  EXPECT_EQ(Verify(unknown).result(), cv1::VERIFICATION_RESULT_UNKNOWN);

  cv1::RevokeCertificateRequest revoke;
  revoke.set_name(cert.name());
  revoke.set_reason("issued by mistake");
  cv1::RevokeCertificateResponse revoked;
  EXPECT_EQ(certificates()
                .RevokeCertificate(Ctx(TestTokens().frontend).get(), revoke, &revoked)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      certificates().RevokeCertificate(Ctx(TestTokens().admin).get(), revoke, &revoked).ok());
  v = Verify(by_serial);
  EXPECT_EQ(v.result(), cv1::VERIFICATION_RESULT_REVOKED);
  EXPECT_EQ(v.revoke_reason(), "issued by mistake");
  EXPECT_TRUE(v.has_revoke_time());
  EXPECT_EQ(Verify(signed_req).result(), cv1::VERIFICATION_RESULT_REVOKED);
}

TEST_F(CertificatesE2E, PdfShowsTheAccentedNameInFrenchAndTheQrCodeDecodes) {
  const std::string event = CreateEvent();
  const std::string r = Register(event, "Zoë", "Ñúñez-Çelik", "zoe.pdf@justice.sn", "fr");
  Attendance(event, {{"zoe.pdf@justice.sn", 80}});
  Complete(event);
  cv1::Certificate cert;
  ASSERT_TRUE(Request(r, &cert).ok());
  EXPECT_EQ(cert.document_language(), "fr");
  cv1::DownloadCertificateRequest req;
  req.set_name(cert.name());
  req.set_participant_key(KeyOf(r));
  auto ctx = Ctx(TestTokens().frontend);
  auto reader = certificates().DownloadCertificate(ctx.get(), req);
  cv1::DownloadCertificateResponse msg;
  std::string pdf;
  while (reader->Read(&msg)) pdf += msg.chunk();
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(Sha256Hex(pdf), cert.pdf_sha256());
  const std::string file = WriteFile(*dir_ + "/certificate.pdf", pdf);
  auto text = ecd::test::Run({"pdftotext", "-enc", "UTF-8", file, "-"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Zoë Ñúñez-Çelik"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Certificat de participation"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(cert.facts().serial()), std::string::npos);
  auto png =
      ecd::test::Run({"pdftoppm", "-r", "150", "-png", "-singlefile", file, *dir_ + "/page"});
  ASSERT_EQ(png.exit_code, 0) << png.err;
  auto qr = ecd::test::Run({"zbarimg", "--raw", "-q", *dir_ + "/page.png"});
  ASSERT_EQ(qr.exit_code, 0) << qr.err;
  std::string decoded = qr.out;
  while (!decoded.empty() && (decoded.back() == '\n' || decoded.back() == '\r')) decoded.pop_back();
  EXPECT_EQ(decoded, cert.facts().verification_code() + "#salt=" + cert.name_salt());
  EXPECT_NE(text.out.find(cert.name_salt()), std::string::npos) << "the salt is printed";
}

// A certificate names its holder: a frontend needs the registration's participant key to ask for
// it or download it; another participant's key, a forged one or none is refused.
TEST_F(CertificatesE2E, OnlyTheHolderReadsTheirCertificate) {
  const std::string event = CreateEvent();
  const std::string mine = Register(event, "Fatou", "Sall", "fatou.key@justice.sn", "fr");
  const std::string theirs = Register(event, "Ibrahima", "Ndiaye", "ibrahima.key@justice.sn", "fr");
  Attendance(event, {{"fatou.key@justice.sn", 100}, {"ibrahima.key@justice.sn", 100}});
  Complete(event);
  cv1::Certificate cert;
  ASSERT_TRUE(Request(mine, &cert).ok());
  for (const std::string& key :
       {std::string(), KeyOf(theirs), KeyOf(mine).substr(1), std::string("x")}) {
    cv1::RequestCertificateRequest req;
    req.set_registration(mine);
    req.set_participant_key(key);
    cv1::RequestCertificateResponse resp;
    auto st = certificates().RequestCertificate(Ctx(TestTokens().frontend).get(), req, &resp);
    EXPECT_FALSE(st.ok()) << "key '" << key << "'";
    EXPECT_TRUE(resp.certificate().holder_name().empty());
    cv1::DownloadCertificateRequest dl;
    dl.set_name(cert.name());
    dl.set_participant_key(key);
    auto ctx = Ctx(TestTokens().frontend);
    auto reader = certificates().DownloadCertificate(ctx.get(), dl);
    cv1::DownloadCertificateResponse msg;
    std::string pdf;
    while (reader->Read(&msg)) pdf += msg.chunk();
    EXPECT_FALSE(reader->Finish().ok()) << "key '" << key << "'";
    EXPECT_TRUE(pdf.empty());
  }
  // Admin needs no key.
  cv1::RequestCertificateRequest req;
  req.set_registration(mine);
  cv1::RequestCertificateResponse resp;
  ASSERT_TRUE(certificates().RequestCertificate(Ctx(TestTokens().admin).get(), req, &resp).ok());
  EXPECT_EQ(resp.certificate().name(), cert.name());
}

// After ErasePersonalData the certificate still verifies, and the service keeps no name in clear.
TEST_F(CertificatesE2E, ErasureKeepsVerificationWithoutTheName) {
  const std::string event = CreateEvent();
  const std::string r = Register(event, "Aïcha", "Ouédraogo", "erase.cert@justice.sn", "fr");
  Attendance(event, {{"erase.cert@justice.sn", 100}});
  Complete(event);
  cv1::Certificate cert;
  ASSERT_TRUE(Request(r, &cert).ok());
  reg::ErasePersonalDataRequest erase;
  erase.set_email("erase.cert@justice.sn");
  reg::ErasePersonalDataResponse erased;
  ASSERT_TRUE(
      registrations().ErasePersonalData(Ctx(TestTokens().admin).get(), erase, &erased).ok());
  EXPECT_EQ(erased.erased(), 1);
  // Nothing in the certificates schema names the person any more: every text and bytea column of
  // every table (read from information_schema, so that a new one is covered too).
  pqxx::connection conn(*db_);
  auto naming_columns = [&] {
    pqxx::nontransaction tx(conn);
    std::vector<std::string> found;
    for (const auto& col :
         tx.exec("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE"
                 " table_schema = 'certificates' AND data_type IN ('text', 'bytea',"
                 " 'character varying')")) {
      const std::string table = col[0].as<std::string>(), column = col[1].as<std::string>();
      const bool bytes = col[2].as<std::string>() == "bytea";
      for (const char* needle : {"Ouédraogo", "Aïcha", "erase.cert@justice.sn"}) {
        const std::string where =
            bytes ? "position(convert_to($1, 'UTF8') in " + tx.quote_name(column) + ") > 0"
                  : "position($1 in " + tx.quote_name(column) + ") > 0";
        if (tx.exec_params(
                  "SELECT count(*) FROM certificates." + tx.quote_name(table) + " WHERE " + where,
                  needle)[0][0]
                .as<int>() > 0) {
          found.push_back(table + "." + column + " holds " + needle);
        }
      }
    }
    return found;
  };
  auto erased_rows = [&] {
    pqxx::nontransaction tx(conn);
    return tx
        .exec_params("SELECT count(*) FROM certificates.certificates WHERE id = $1 AND erased",
                     cert.name().substr(cert.name().find('/') + 1))[0][0]
        .as<int>();
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (erased_rows() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(erased_rows(), 1);
  EXPECT_EQ(naming_columns(), std::vector<std::string>{});
  // It verifies by serial, by code, and by payload + signature, unchanged.
  cv1::VerifyCertificateRequest by_serial;
  by_serial.set_serial(cert.facts().serial());
  auto v = Verify(by_serial);
  EXPECT_EQ(v.result(), cv1::VERIFICATION_RESULT_VALID);
  EXPECT_EQ(v.facts().name_commitment(), cert.facts().name_commitment());
  EXPECT_EQ(v.facts().event_title(), cert.facts().event_title());
  cv1::VerifyCertificateRequest by_code;
  by_code.set_verification_code(cert.facts().verification_code());
  EXPECT_EQ(Verify(by_code).result(), cv1::VERIFICATION_RESULT_VALID);
  cv1::VerifyCertificateRequest signed_req;
  signed_req.mutable_signed_()->set_payload(cert.payload());
  signed_req.mutable_signed_()->set_signature(cert.signature());
  // The holder's PDF still proves their name: the printed name and salt match the commitment.
  signed_req.set_holder_name(cert.holder_name());
  signed_req.set_name_salt(cert.name_salt());
  v = Verify(signed_req);
  EXPECT_EQ(v.result(), cv1::VERIFICATION_RESULT_VALID);
  EXPECT_EQ(v.name_check(), cv1::NAME_CHECK_MATCH);
  // What the service answers now is the same signed payload, still verifying, without the name.
  cv1::Certificate again;
  ASSERT_TRUE(Request(r, &again).ok());
  EXPECT_EQ(again.payload(), cert.payload());
  EXPECT_EQ(again.holder_name(), "");
  EXPECT_EQ(again.name_salt(), "");
  cv1::VerifyCertificateRequest replayed;
  replayed.mutable_signed_()->set_payload(again.payload());
  replayed.mutable_signed_()->set_signature(again.signature());
  EXPECT_EQ(Verify(replayed).result(), cv1::VERIFICATION_RESULT_VALID);
  std::string tampered = cert.payload();
  tampered[tampered.size() / 2] ^= 1;
  signed_req.mutable_signed_()->set_payload(tampered);
  EXPECT_EQ(Verify(signed_req).result(), cv1::VERIFICATION_RESULT_INVALID_SIGNATURE);
  cv1::DownloadCertificateRequest dl;
  dl.set_name(cert.name());
  auto ctx = Ctx(TestTokens().admin);
  auto reader = certificates().DownloadCertificate(ctx.get(), dl);
  cv1::DownloadCertificateResponse msg;
  while (reader->Read(&msg)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// The same name typed decomposed (NFD) prints and commits as composed (NFC); a name no font can
// draw is refused before anything is signed.
TEST_F(CertificatesE2E, NamesAreNormalisedAndMustBePrintable) {
  const std::string event = CreateEvent();
  const std::string nfd = Register(event, "Zoe\u0308", "Nu\u0301n\u0303ez", "nfd@justice.sn", "fr");
  const std::string odd = Register(event, "Awa", "Diop \uE000", "pua@justice.sn", "fr");
  Attendance(event, {{"nfd@justice.sn", 100}, {"pua@justice.sn", 100}});
  Complete(event);
  cv1::Certificate cert;
  ASSERT_TRUE(Request(nfd, &cert).ok());
  EXPECT_EQ(cert.holder_name(), "Zoë Núñez");
  for (const std::string name : {"Zoë Núñez", "Zoe\u0308 Nu\u0301n\u0303ez"}) {
    cv1::VerifyCertificateRequest check;
    check.set_serial(cert.facts().serial());
    check.set_holder_name(name);
    check.set_name_salt(cert.name_salt());
    EXPECT_EQ(Verify(check).name_check(), cv1::NAME_CHECK_MATCH) << name;
  }
  auto st = Request(odd, &cert);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(InfoOf(st).metadata().at("field"), "participant.certificate_name");
  pqxx::connection conn(*db_);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec_params("SELECT count(*) FROM certificates.certificates WHERE"
                           " registration_id = $1",
                           odd.substr(odd.find('/') + 1))[0][0]
                .as<int>(),
            0)
      << "nothing signed or stored";
}

// The certificate as a W3C Verifiable Credential (eddsa-jcs-2022), checked by an independent
// implementation (tests/e2e/verify_vc.py: its own JCS, Python's cryptography for Ed25519) against
// the Multikey that ListSigningKeys publishes; a changed field fails.
TEST_F(CertificatesE2E, VerifiableCredentialVerifiesIndependently) {
  const std::string event = CreateEvent();
  const std::string r = Register(event, "李", "小龙", "li.xiaolong@mps.example.cn", "en");
  Attendance(event, {{"li.xiaolong@mps.example.cn", 100}});
  Complete(event);
  cv1::Certificate cert;
  ASSERT_TRUE(Request(r, &cert).ok());
  cv1::GetCertificateRequest get;
  get.set_name(cert.name());
  get.set_view(cv1::CERTIFICATE_VIEW_VERIFIABLE_CREDENTIAL);
  cv1::GetCertificateResponse got;
  ASSERT_TRUE(certificates().GetCertificate(Ctx(TestTokens().admin).get(), get, &got).ok());
  const std::string vc = got.verifiable_credential();
  ASSERT_FALSE(vc.empty());
  EXPECT_EQ(vc.find("小龙"), std::string::npos) << "the credential holds no name";
  EXPECT_NE(vc.find(cert.facts().name_commitment()), std::string::npos);
  cv1::ListSigningKeysRequest list;
  cv1::ListSigningKeysResponse keys;
  ASSERT_TRUE(
      certificates().ListSigningKeys(Ctx(TestTokens().integration).get(), list, &keys).ok());
  std::string multikey;
  for (const auto& k : keys.keys()) {
    if (k.key_id() == cert.facts().key_id()) multikey = k.multikey();
  }
  ASSERT_FALSE(multikey.empty());
  const std::string key_file = WriteFile(*dir_ + "/multikey.json", multikey);
  auto verify = [&](const std::string& credential) {
    return ecd::test::Run(
        {"/usr/bin/python3", ECD_VERIFY_VC, WriteFile(*dir_ + "/vc.json", credential), key_file});
  };
  auto ok = verify(vc);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err << "\n" << vc;
  EXPECT_EQ(ok.out, "valid\n");
  for (const auto& [from, to] :
       {std::pair{std::string("\"durationMinutes\":100"), std::string("\"durationMinutes\":101")},
        std::pair{cert.facts().serial(), cert.facts().serial() + "X"},
        std::pair{std::string("\"created\":\"20"), std::string("\"created\":\"19")}}) {
    std::string changed = vc;
    const size_t at = changed.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    changed.replace(at, from.size(), to);
    auto bad = verify(changed);
    EXPECT_EQ(bad.exit_code, 1) << "changed " << from << ": " << bad.out << bad.err;
  }
}

// Certificates issued before name commitments (payload version 1, the name in clear) still verify.
TEST_F(CertificatesE2E, VersionOnePayloadsStillVerify) {
  auto keys = certificates::Keyring::FromPem(*old_key_, {});
  ASSERT_TRUE(keys.ok());
  certificates::CertifiedFacts f;
  f.version = 1;
  f.serial = "ECD-2020-0709-OLD1-OLD1";
  f.verification_code = "OLDFORMATCODE234";
  f.participant_name = "Ngozi Okonjo-Iweala";
  f.event_title = "Webinar with African countries (English)";
  f.series_title = "Cybercrime and criminal justice in cyberspace";
  f.event_start = "2020-07-07T08:00:00Z";
  f.event_end = "2020-07-07T09:45:00Z";
  f.duration_minutes = 100;
  f.language = "en";
  f.issuer = "Council of Europe, with EU Cyber Direct";
  f.issue_date = "2020-07-08";
  f.key_id = keys->signing_key_id();
  const std::string payload = certificates::CanonicalPayload(f);
  ASSERT_EQ(payload.rfind("{\"serial\":", 0), 0u) << payload;
  const std::string signature = Base64UrlEncode(keys->Sign(payload));
  {
    pqxx::connection conn(*db_);
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO certificates.certificates (id, registration_id, event_id, serial,"
        " verification_code, payload, signature, key_id, document_language, pdf, pdf_sha256,"
        " payload_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'en', ''::bytea, '', '')",
        NewUuid(), NewUuid(), NewUuid(), f.serial, f.verification_code, payload, signature,
        f.key_id);
    tx.commit();
  }
  cv1::VerifyCertificateRequest by_serial;
  by_serial.set_serial(f.serial);
  by_serial.set_holder_name("Ngozi Okonjo-Iweala");
  auto v = Verify(by_serial);
  EXPECT_EQ(v.result(), cv1::VERIFICATION_RESULT_VALID);
  EXPECT_EQ(v.facts().version(), 1);
  EXPECT_EQ(v.facts().participant_name(), "Ngozi Okonjo-Iweala");
  EXPECT_EQ(v.name_check(), cv1::NAME_CHECK_MATCH);
  cv1::VerifyCertificateRequest signed_req;
  signed_req.mutable_signed_()->set_payload(payload);
  signed_req.mutable_signed_()->set_signature(signature);
  EXPECT_EQ(Verify(signed_req).result(), cv1::VERIFICATION_RESULT_VALID);
}

// Rotation: a new signing key, the previous one kept for verification. Runs last: it restarts
// the service.
TEST_F(CertificatesE2E, ZRotationKeepsOldCertificatesValid) {
  const std::string event = CreateEvent();
  const std::string r = Register(event, "Kofi", "Mensah", "kofi@justice.sn", "en");
  Attendance(event, {{"kofi@justice.sn", 100}});
  Complete(event);
  cv1::Certificate old_cert;
  ASSERT_TRUE(Request(r, &old_cert).ok());
  const std::string old_key_id = old_cert.facts().key_id();

  delete certificates_;
  cert_.reset();
  WriteFile(*dir_ + "/new.pem", certificates::Keyring::GeneratePrivateKeyPem());
  auto old_public = certificates::Keyring::PublicPemOf(*old_key_);
  ASSERT_TRUE(old_public.ok());
  WriteFile(*dir_ + "/old.pub.pem", *old_public);
  certificates_ = StartCertificates(*dir_ + "/new.pem", *dir_ + "/old.pub.pem");
  ASSERT_TRUE(certificates_->WaitHealth("SERVING", std::chrono::seconds(30)));

  cv1::ListSigningKeysRequest list;
  cv1::ListSigningKeysResponse keys;
  ASSERT_TRUE(
      certificates().ListSigningKeys(Ctx(TestTokens().integration).get(), list, &keys).ok());
  ASSERT_EQ(keys.keys_size(), 2);
  int signing = 0;
  for (const auto& k : keys.keys()) {
    signing += k.signing();
    if (k.key_id() == old_key_id) {
      EXPECT_FALSE(k.signing());
    }
    EXPECT_EQ(k.algorithm(), "Ed25519");
  }
  EXPECT_EQ(signing, 1);
  cv1::VerifyCertificateRequest by_serial;
  by_serial.set_serial(old_cert.facts().serial());
  EXPECT_EQ(Verify(by_serial).result(), cv1::VERIFICATION_RESULT_VALID);

  const std::string event2 = CreateEvent();
  const std::string r3 = Register(event2, "Ama", "Owusu", "ama@justice.sn", "en");
  Attendance(event2, {{"ama@justice.sn", 100}});
  Complete(event2);
  cv1::Certificate new_cert;
  ASSERT_TRUE(Request(r3, &new_cert).ok());
  EXPECT_NE(new_cert.facts().key_id(), old_key_id);
  by_serial.set_serial(new_cert.facts().serial());
  EXPECT_EQ(Verify(by_serial).result(), cv1::VERIFICATION_RESULT_VALID);
}

}  // namespace
}  // namespace ecd::test
