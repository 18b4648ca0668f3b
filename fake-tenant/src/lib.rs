//! A fake Microsoft tenant for ccaudit's tests.
