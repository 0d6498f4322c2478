import { follow } from "./feedResolving";

// type-graphql hands `subscribe` its context untyped: only a context the api issued may open a feed.
it("refuses to open a feed for a context the api did not issue, however much it looks like one", () => {
  const subscribe = jest.fn();
  expect(() => follow({ subscribe }, "products", "stock-levels", null)).toThrow("a context the api did not build");
  expect(() => follow(null, "products", "stock-levels", null)).toThrow("a context the api did not build");
  expect(subscribe).not.toHaveBeenCalled();
});
