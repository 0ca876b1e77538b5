"""Claims and operator listings: verify/unverify a listing, add listings without an owner (form and CSV
import), and owners claiming an ownerless listing (proof by an emailed link, else the operator decides)."""
